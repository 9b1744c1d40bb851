#include "pipeline/status_followup.h"

#include <algorithm>

#include "core/civil_time.h"

namespace sfmc {

using std::chrono::milliseconds;

StatusFollowUp::StatusFollowUp(kafka::Consumer& consumer, kafka::Publisher& publisher, StatusClient& client,
                               HttpTransport& transport, Metrics& metrics, Logger& log, StatusOptions options)
    : consumer_(consumer),
      publisher_(publisher),
      client_(client),
      transport_(transport),
      metrics_(metrics),
      log_(log),
      options_(std::move(options)) {
  publisher_.on_delivered([this](const InputCoordinates& input, int64_t, const std::string& error) {
    if (error.empty()) return consumer_.offsets().finish(input.topic, input.partition, input.offset);
    if (!failed_)
      log_.error("status follow-up: Kafka refused a record; the follow-up stops (the check is read again at restart)",
                 {{"topic", input.topic}, {"partition", input.partition}, {"offset", input.offset}, {"error", error}});
    failed_ = true;
  });
  consumer_.on_revoke([this](const kafka::Consumer::Partitions& revoked, bool) { drop(revoked); });
  consumer_.wake_on(wake_.write_end());
  publisher_.wake_on(wake_.write_end());
  transport_.watch(wake_.read_end());
}

bool StatusFollowUp::run(const std::atomic<bool>& stop) {
  log_.info("status follow-up started", {{"outcome_topic", options_.outcome_topic},
                                         {"followup_topic", options_.followup_topic}, {"status_topic", options_.topic}});
  while (!stop && !failed_) turn(milliseconds(100));
  publisher_.flush(milliseconds(10000));
  consumer_.commit_now();
  consumer_.close();
  log_.info("status follow-up stopped", {{"held", held_.size()}});
  return !failed_;
}

void StatusFollowUp::turn(milliseconds max_wait) {
  wake_.drain();
  publisher_.poll(milliseconds(0));
  consumer_.serve();  // a revoke drops its partitions' checks here
  while (held_.size() < options_.max_held) {
    auto event = consumer_.take();
    if (!event) break;
    admit(std::move(*event));
  }
  int64_t now = unix_ms_now();
  look_up_due(now);
  client_.poll();
  consumer_.commit_finished(/*urgent=*/false);
  metrics_.set_status_held(static_cast<double>(held_.size()));
  metrics_.set_followup_lag(due_.empty() || due_.begin()->first > now ? 0.0 : (now - due_.begin()->first) / 1000.0);
  if (!due_.empty() && client_.waiting() < kQueued)  // else the client's wake-up or an answer comes first
    max_wait = std::clamp(milliseconds(due_.begin()->first - now + 1), milliseconds(0), max_wait);
  if (auto next = client_.next_wakeup()) {
    auto until = std::chrono::duration_cast<milliseconds>(*next - std::chrono::steady_clock::now()) + milliseconds(1);
    max_wait = std::clamp(until, milliseconds(0), max_wait);
  }
  transport_.poll(max_wait);
}

void StatusFollowUp::admit(InboundEvent event) {
  const InputCoordinates& input = event.input;
  auto header = [&event](std::string_view name) -> const std::string* {
    for (const auto& [key, value] : event.headers)
      if (key == name) return &value;
    return nullptr;
  };
  std::vector<StatusCheck> checks;
  std::string error;
  if (input.topic == options_.outcome_topic) {
    // The first checks of the sends the relay marked for this follow-up;
    // other outcomes (not accepted, or from before it was on) ask for none.
    const std::string* followup = header(kFollowUpHeader);
    if (followup != nullptr && *followup == options_.followup_topic) {
      const std::string* message_id = header(kMessageIdHeader);
      const int64_t accepted = event.timestamp_ms > 0 ? event.timestamp_ms : unix_ms_now();
      if (auto first = first_checks(event.value, message_id ? *message_id : std::string(), accepted,
                                    accepted + options_.schedule.front().count(), error))
        checks = std::move(*first);
    }
  } else if (auto check = parse_status_check(event.value, error)) {
    checks.push_back(std::move(*check));
  }
  if (!error.empty()) {
    log_.warn("status follow-up: a record asks for a status check it does not describe; skipped",
              {{"topic", input.topic}, {"partition", input.partition}, {"offset", input.offset}, {"error", error}});
    metrics_.status_check("dropped");
  }
  if (checks.empty()) return consumer_.offsets().finish(input.topic, input.partition, input.offset);
  // Its offset is done when every check it started has published its records.
  for (size_t i = 1; i < checks.size(); ++i) consumer_.offsets().expect_another(input.topic, input.partition, input.offset);
  for (auto& check : checks) {
    uint64_t id = next_id_++;
    due_.emplace(check.due_ms, id);
    held_.emplace(id, Held{std::move(check), input});
  }
}

void StatusFollowUp::look_up_due(int64_t now_ms) {
  while (!due_.empty() && due_.begin()->first <= now_ms && client_.waiting() < kQueued) {
    uint64_t id = due_.begin()->second;
    due_.erase(due_.begin());
    client_.lookup(held_.at(id).check, [this, id](StatusAnswer answer) { answered(id, std::move(answer)); });
  }
}

void StatusFollowUp::answered(uint64_t id, StatusAnswer answer) {
  auto it = held_.find(id);
  if (it == held_.end()) return;  // its partition moved on: the new owner looks again
  StatusCheck& check = it->second.check;
  const InputCoordinates input = it->second.input;
  int64_t now = unix_ms_now();
  const int64_t window_end = check.accepted_ms + options_.lookup_window.count();
  if (answer.rows.empty() && answer.retry && now + options_.retry_delay.count() < window_end) {
    // SFMC did not answer this time: the same step again later.
    log_.debug("status lookup not answered; trying again later", {{"event", check.id}, {"error", answer.error}});
    metrics_.status_check("retry");
    check.due_ms = now + options_.retry_delay.count();
    due_.emplace(check.due_ms, id);
    return;
  }
  if (answer.rows.empty()) answer.rows.emplace_back();  // not found, refused, or out of time: unknown
  const size_t next_step = static_cast<size_t>(check.step) + 1;
  const bool terminal = std::all_of(answer.rows.begin(), answer.rows.end(), [](const auto& r) { return r.terminal; });
  const bool more_steps = next_step < options_.schedule.size();
  const bool in_window = more_steps && check.accepted_ms + options_.schedule[next_step].count() < window_end;
  const bool last = terminal || !more_steps || !in_window || (!answer.error.empty() && !answer.not_found);

  const std::string& key = check.token_id.empty() ? check.message_key : check.token_id;
  bool first = true;
  for (const auto& row : answer.rows) {
    DeliveryRecord record{DeliverySource::Status, check.id, check.operation, check.account, check.message_key,
                          check.token_id, row.mobile_number, row.state, last, check.step, row.event_category_type,
                          row.status_code, row.status_message, row.standard_status_code, row.description,
                          row.send_status, row.sfmc_time, now, answer.error};
    if (last && !row.terminal && record.note.empty())
      record.note = !more_steps ? "schedule ended" : "past SFMC's lookup window";
    if (!publish(options_.topic, key, to_json(record), input, first)) return;
    first = false;
    metrics_.delivery_state(check.operation, to_string(row.state));
  }
  if (!last) {
    StatusCheck next = check;
    next.step = static_cast<int>(next_step);
    next.due_ms = std::max(now, check.accepted_ms + options_.schedule[next_step].count());
    if (!publish(options_.followup_topic, key, to_json(next), input, first)) return;
  }
  metrics_.status_check(last ? "final" : "pending");
  held_.erase(it);
}

bool StatusFollowUp::publish(const std::string& topic, const std::string& key, const std::string& value,
                             const InputCoordinates& input, bool first) {
  // The input record's offset stays pending until every record published
  // for it is acknowledged.
  if (!first) consumer_.offsets().expect_another(input.topic, input.partition, input.offset);
  for (;;) {
    std::string error;
    switch (publisher_.publish(error, topic, key, value, {}, input)) {
      case kafka::Publisher::Queued::Ok: return true;
      case kafka::Publisher::Queued::QueueFull: publisher_.poll(milliseconds(10)); continue;
      case kafka::Publisher::Queued::Failed:
        log_.error("status follow-up: cannot publish; the follow-up stops", {{"topic", topic}, {"error", error}});
        failed_ = true;
        return false;
    }
  }
}

void StatusFollowUp::drop(const kafka::Consumer::Partitions& partitions) {
  // What was published for them is acknowledged before their last commit.
  publisher_.flush(milliseconds(10000));
  std::erase_if(held_, [&](const auto& entry) {
    return partitions.count({entry.second.input.topic, entry.second.input.partition}) > 0;
  });
  std::erase_if(due_, [&](const auto& entry) { return !held_.contains(entry.second); });
}

}  // namespace sfmc
