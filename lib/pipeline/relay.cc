#include "pipeline/relay.h"

#include <algorithm>
#include <iterator>

#include "core/civil_time.h"
#include "core/dead_letter.h"
#include "core/delivery.h"
#include "core/outcome_json.h"
#include "core/operations.h"

namespace sfmc {

using std::chrono::milliseconds;

Relay::Relay(kafka::Consumer& consumer, kafka::Publisher& publisher, EventDecoder& decoder, SfmcClient& client,
             HttpTransport& transport, Clock& clock, Metrics& metrics, Health& health, Logger& log,
             RelayOptions options, RelayHooks hooks)
    : consumer_(consumer),
      publisher_(publisher),
      decoder_(decoder),
      client_(client),
      transport_(transport),
      clock_(clock),
      metrics_(metrics),
      health_(health),
      log_(log),
      options_(std::move(options)),
      hooks_(std::move(hooks)),
      kafka_outage_(log, "Kafka brokers") {
  publisher_.on_delivered([this](const InputCoordinates& input, int64_t timestamp_ms, const std::string& error) {
    delivered(input, timestamp_ms, error);
  });
  consumer_.on_revoke([this](const kafka::Consumer::Partitions& revoked, bool lost) {
    if (lost) metrics_.assignment_lost();
    drain(lost ? "partitions lost" : "partitions revoked", &revoked, /*finish=*/!lost);
    for (const auto& partition : revoked) partition_sends_.erase(partition);
    if (!options_.exactly_once) return;
    // Their outcomes and offsets commit before the partitions move. What of
    // theirs stays in the transaction (a lost assignment, a failed commit)
    // leaves it: their next owner makes those outcomes again.
    if (!lost) commit_transaction_now();
    if (txn_records_.any_from(revoked) && abort_open_transaction()) reproduce(&revoked);
  });
  if (options_.exactly_once)
    consumer_.commit_through([this](const rd_kafka_topic_partition_list_t* positions) {
      return commit_transaction(positions);
    });
  client_.on_dispatch([this](uint64_t id, size_t sends_in_call) { sent(id, sends_in_call); });
  consumer_.wake_on(wake_.write_end());
  publisher_.wake_on(wake_.write_end());
  transport_.watch(wake_.read_end());
}

size_t Relay::window() {
  // Everything a crash now would deliver again: events in progress and
  // finished ones a confirmed commit does not cover yet.
  return std::max(works_.size(), consumer_.offsets().uncommitted());
}

std::string Relay::order_key(const InboundEvent& event) const {
  std::string partition = event.input.topic + '\0' + std::to_string(event.input.partition);
  switch (options_.ordering) {
    case Ordering::Partition: return partition;
    case Ordering::Key: return event.key ? partition + '\0' + *event.key : std::string();
    case Ordering::None: return {};
  }
  return {};
}

void Relay::admit(InboundEvent event) {
  uint64_t id = next_id_++;
  Work& work = works_[id];
  work.outcome.input = event.input;
  metrics_.event_consumed();
  Decoded decoded = decoder_.decode(event);
  if (auto* invalid = std::get_if<InvalidEvent>(&decoded)) {
    metrics_.invalid_event(invalid->reason);
    work.outcome.id = std::move(invalid->id);
    work.outcome.operation = std::move(invalid->operation);
    work.outcome.account = std::move(invalid->account);
    work.outcome.status = OutcomeStatus::Invalid;
    work.outcome.errors = std::move(invalid->errors);
  } else {
    auto& request = std::get<SendRequest>(decoded);
    work.outcome.id = request.id;
    work.outcome.operation = std::string(info(request.operation).name);
    work.outcome.account = request.account;
    if (request.operation == Operation::MessageContactSend || request.operation == Operation::MessageListSend)
      work.message_id = request.path_parameter;
    if (!client_.has_account(request.account)) {
      metrics_.invalid_event("account");
      work.outcome.status = OutcomeStatus::Invalid;
      work.outcome.errors.push_back({"account '" + request.account + "' is not configured", "/account", std::nullopt, {}});
    } else {
      work.request = std::move(request);
    }
  }
  work.event = std::move(event);
  if (options_.exactly_once) {
    // In offset order; the consumer hands a partition's records over in
    // that order, so this is a push at the back.
    auto& order = unreleased_[{work.outcome.input.topic, work.outcome.input.partition}];
    auto at = order.end();
    while (at != order.begin() && std::prev(at)->first > work.outcome.input.offset) --at;
    order.emplace(at, work.outcome.input.offset, id);
  }
  // Only a dead letter needs the value again: let the memory go.
  if (options_.dead_letter_topic.empty()) std::string().swap(work.event.value);
  if (!work.request) return publish(id);  // nothing to send: its outcome goes out now

  work.order_key = order_key(work.event);
  if (work.order_key.empty()) return start_send(id);
  auto& queue = key_queues_[work.order_key];
  queue.push_back(id);
  if (queue.size() == 1) start_send(id);  // otherwise it waits for the sends before it
}

void Relay::start_send(uint64_t id) {
  Work& work = works_.at(id);
  const InputCoordinates& input = work.event.input;
  PartitionSends& partition = partition_sends_[{input.topic, input.partition}];
  ++partition.waiting;
  // Before its first call a partition counts as one of one-off sends: one
  // whose sends merge is let go at once by that call; one whose sends cannot
  // does not fill the window with a backlog that must go one call at a time.
  if (!partition.held &&
      static_cast<double>(partition.waiting) >= options_.max_waiting_calls * std::max(partition.sends_per_call, 1.0)) {
    partition.held = true;
    consumer_.hold(input.topic, input.partition, true);
  }
  work.request->tag = id;
  client_.send(std::move(*work.request), [this, id](SendResult result) { finished(id, std::move(result)); });
}

void Relay::sent(uint64_t id, size_t sends_in_call) {
  auto work = works_.find(id);
  if (work == works_.end()) return;  // abandoned at a revoke
  const InputCoordinates& input = work->second.event.input;
  auto it = partition_sends_.find({input.topic, input.partition});
  if (it == partition_sends_.end()) return;
  PartitionSends& partition = it->second;
  if (partition.waiting > 0) --partition.waiting;
  const auto sends = static_cast<double>(sends_in_call);
  if (partition.sends_per_call == 0 || sends < partition.sends_per_call) partition.sends_per_call = sends;
  else partition.sends_per_call += 0.1 * (sends - partition.sends_per_call);
  if (partition.held &&
      2 * static_cast<double>(partition.waiting) < options_.max_waiting_calls * partition.sends_per_call) {
    partition.held = false;
    consumer_.hold(input.topic, input.partition, false);
  }
}

void Relay::finished(uint64_t id, SendResult result) {
  auto it = works_.find(id);
  if (it == works_.end()) return;  // abandoned at a revoke: the new owner sends it again
  Work& work = it->second;
  Outcome& o = work.outcome;
  o.status = result.status;
  o.http_status = result.http_status;
  o.request_id = std::move(result.request_id);
  o.message_keys = std::move(result.message_keys);
  o.token_id = std::move(result.token_id);
  o.errors = std::move(result.errors);
  o.attempts = result.attempts;
  if (!work.order_key.empty()) {
    auto queue = key_queues_.find(work.order_key);
    queue->second.pop_front();
    if (queue->second.empty()) key_queues_.erase(queue);
    else start_send(queue->second.front());
  }
  mark_for_followup(work);
  publish(id);
}

void Relay::publish(uint64_t id) {
  auto node = works_.find(id);
  Work& work = node->second;
  const Outcome& outcome = work.outcome;
  if (!work.dead_letter_queued && !work.done && outcome.status != OutcomeStatus::Accepted)
    log_.info("event finished", {{"event", outcome.id}, {"status", to_string(outcome.status)},
                                 {"error", outcome.errors.empty() ? "" : outcome.errors.front().message}});
  if (options_.exactly_once) {
    work.done = true;
    return release({outcome.input.topic, outcome.input.partition});
  }
  if (!publish_dead_letter(id, work)) return;
  std::string error;
  // The outcome keeps the event's key and headers (trace ids and the like).
  switch (publisher_.publish(error, options_.outcome_topic, outcome_key(work), to_json(outcome), work.event.headers,
                             work.event.input, work.event.timestamp_ms)) {
    case kafka::Publisher::Queued::Ok:
      metrics_.outcome(outcome.operation, outcome.status);
      works_.erase(node);
      return;
    case kafka::Publisher::Queued::QueueFull: unpublished_.push_back(id); return;  // counts against the window
    case kafka::Publisher::Queued::Failed:
      // The offset stays uncommitted: the event is consumed again after the
      // restart, so nothing is lost.
      log_.error("cannot publish an outcome; stopping", {{"event", outcome.id}, {"error", error}});
      fatal_kafka_ = true;
      return;
  }
}

// Invalid, rejected and failed events go, as they came (value, key, headers), to the
// dead-letter topic with headers saying why. Returns false when the outcome
// must wait (queue full) or cannot be written.
bool Relay::dead_letter_due(const Work& work) const {
  // Not delivered: wrong, refused by SFMC (an inactive definition, revoked
  // rights: a redrive once fixed), or failed past the retry budget.
  const OutcomeStatus status = work.outcome.status;
  bool wanted = status == OutcomeStatus::Invalid || status == OutcomeStatus::Rejected || status == OutcomeStatus::Failed;
  return !options_.dead_letter_topic.empty() && wanted && !work.dead_letter_queued;
}

std::vector<std::pair<std::string, std::string>> Relay::dead_letter_headers(const Work& work) {
  namespace dl = dead_letter;
  const Outcome& outcome = work.outcome;
  std::vector<std::pair<std::string, std::string>> headers;
  // A redriven event that failed again: its earlier letter's headers give way.
  for (const auto& h : work.event.headers)
    if (!dl::is_failure_header(h.first) && h.first != dl::kEventId) headers.push_back(h);
  headers.emplace_back(dl::kStatus, std::string(to_string(outcome.status)));
  headers.emplace_back(dl::kError, outcome.errors.empty() ? std::string() : outcome.errors.front().message);
  if (!outcome.errors.empty() && outcome.errors.front().code)
    headers.emplace_back(dl::kErrorCode, std::to_string(*outcome.errors.front().code));
  if (outcome.http_status != 0) headers.emplace_back(dl::kHttpStatus, std::to_string(outcome.http_status));
  headers.emplace_back(dl::kEventId, outcome.id);
  headers.emplace_back(dl::kInput, default_event_id(work.event.input));
  return headers;
}

std::optional<std::string> Relay::outcome_key(const Work& work) {
  return work.event.key ? work.event.key : std::optional<std::string>(work.outcome.id);
}

void Relay::mark_for_followup(Work& work) const {
  const Outcome& o = work.outcome;
  if (options_.status_followup_topic.empty() ||
      (o.status != OutcomeStatus::Accepted && o.status != OutcomeStatus::PartiallyAccepted))
    return;
  // Added to the event's headers, which the outcome carries: a dead letter
  // needs them as they came, but an accepted event has none.
  work.event.headers.emplace_back(kFollowUpHeader, options_.status_followup_topic);
  if (!o.token_id.empty()) work.event.headers.emplace_back(kMessageIdHeader, work.message_id);
}

bool Relay::publish_dead_letter(uint64_t id, Work& work) {
  const Outcome& outcome = work.outcome;
  if (!dead_letter_due(work)) return true;
  std::string error;
  switch (publisher_.publish(error, options_.dead_letter_topic, work.event.key, work.event.value,
                             dead_letter_headers(work), work.event.input)) {
    case kafka::Publisher::Queued::Ok:
      work.dead_letter_queued = true;
      metrics_.dead_letter(outcome.status);
      consumer_.offsets().expect_another(work.event.input.topic, work.event.input.partition, work.event.input.offset);
      return true;
    case kafka::Publisher::Queued::QueueFull: unpublished_.push_back(id); return false;
    case kafka::Publisher::Queued::Failed:
      log_.error("cannot publish a dead letter; stopping", {{"event", outcome.id}, {"error", error}});
      fatal_kafka_ = true;
      return false;
  }
  return false;
}

void Relay::retry_unpublished() {
  if (reproduce_at_ && clock_.now() >= *reproduce_at_) reproduce(nullptr);
  for (auto blocked = std::exchange(blocked_, {}); const auto& partition : blocked) release(partition);
  for (size_t n = unpublished_.size(); n > 0 && !fatal_kafka_; --n) {
    uint64_t id = unpublished_.front();
    unpublished_.pop_front();
    publish(id);  // re-queues itself while the producer is still full
  }
}

void Relay::delivered(const InputCoordinates& input, int64_t event_timestamp_ms, const std::string& error) {
  if (options_.exactly_once) {
    // The transaction's commit fails on such a record and is aborted: its
    // records are produced again. The offset moved when it was released.
    // Said once per transaction (all its records may fail alike). May run
    // on the commit thread: librdkafka's flush serves delivery reports.
    if (!error.empty() && !txn_failure_logged_.exchange(true))
      log_.warn("a record of the transaction was not acknowledged by Kafka; the transaction will abort",
                {{"input_topic", input.topic}, {"input_partition", input.partition}, {"input_offset", input.offset},
                 {"error", error}});
    return;
  }
  if (!error.empty()) {
    log_.error("outcome not acknowledged by Kafka; stopping",
               {{"topic", input.topic}, {"partition", input.partition}, {"offset", input.offset}, {"error", error}});
    fatal_kafka_ = true;
    return;
  }
  consumer_.offsets().finish(input.topic, input.partition, input.offset);
  if (event_timestamp_ms > 0) {
    metrics_.end_to_end(static_cast<double>(unix_ms_now() - event_timestamp_ms) / 1000.0);
  }
}

// One turn of the loop: acknowledgements, new events (`consume`), due
// retries, HTTP progress, and a wait of at most `max_wait` for any of them.
void Relay::turn(milliseconds max_wait, bool consume) {
  health_.last_turn_ms = Health::now_ms();
  health_.assigned = consumer_.assigned();
  health_.assignment_refused = !consumer_.assignment_error().empty();
  health_.brokers_up = consumer_.brokers_up();
  health_.set_kafka_problem(consumer_.brokers_down());
  if (!consumer_.brokers_down().empty()) kafka_outage_.down(clock_.now(), consumer_.brokers_down());
  else if (consumer_.brokers_up()) kafka_outage_.up(clock_.now());
  health_.tokens = client_.tokens_ready();
  metrics_.set_in_flight(static_cast<double>(works_.size()));
  metrics_.set_window(static_cast<double>(window()));
  metrics_.set_paused_partitions(consumer_.paused() ? static_cast<double>(consumer_.assigned_partitions()) : 0);
  if (hooks_.turned) hooks_.turned();
  // Emptied before the queues are read: whatever arrives later writes to it
  // again, so the wait below cannot sleep on a waiting record or report.
  wake_.drain();
  publisher_.poll(milliseconds(0));
  retry_unpublished();
  if (consume) {
    consumer_.serve();  // commit results, rebalances (a revoke drains here), fetched records
    // Each admitted event adds at most one to the window. A few at a time,
    // so answers waiting on the sockets are read between them.
    constexpr size_t kAdmitPerTurn = 64;
    size_t used = window();
    for (size_t n = 0; n < kAdmitPerTurn && used < options_.max_in_flight; ++n, ++used) {
      auto event = consumer_.take();
      if (!event) break;
      admit(std::move(*event));
    }
    if (used < options_.max_in_flight && consumer_.buffered() > 0) max_wait = milliseconds(0);
    // A window half full of finished events waits for a commit: ask at once.
    consumer_.commit_finished(consumer_.offsets().uncommitted() >= options_.max_in_flight / 2 ||
                              txn_state_ == TxnState::Committing);
  } else if (txn_state_ == TxnState::Committing) {
    // Draining: outcomes wait for the commit under way to end.
    consumer_.commit_finished(/*urgent=*/true);
  }
  client_.poll();
  if (reproduce_at_) {
    auto until = std::chrono::duration_cast<milliseconds>(*reproduce_at_ - clock_.now()) + milliseconds(1);
    max_wait = std::clamp(until, milliseconds(0), max_wait);
  }
  if (auto next = client_.next_wakeup()) {
    auto until = std::chrono::duration_cast<milliseconds>(*next - clock_.now()) + milliseconds(1);
    max_wait = std::clamp(until, milliseconds(0), max_wait);
  }
  transport_.poll(max_wait);
}

void Relay::drain(const char* why, const kafka::Consumer::Partitions* partitions, bool finish) {
  auto ours = [partitions](const auto& node) {
    const InputCoordinates& input = node.second.outcome.input;
    return partitions == nullptr || partitions->count({input.topic, input.partition}) > 0;
  };
  int unacknowledged = 0;
  if (finish) {
    auto deadline = clock_.now() + options_.drain_timeout;
    log_.info("finishing events in flight",
              {{"reason", why}, {"count", std::count_if(works_.begin(), works_.end(), ours)}});
    while (std::any_of(works_.begin(), works_.end(), ours) && !fatal_kafka_ && !client_.fatal_error() &&
           clock_.now() < deadline)
      turn(milliseconds(50), /*consume=*/false);
    unacknowledged = publisher_.flush(std::chrono::duration_cast<milliseconds>(
        std::max(deadline - clock_.now(), Clock::duration(milliseconds(1000)))));
  }
  // What is left is not ours any more (revoke) or not finished (stop): its
  // offsets stay uncommitted, and a late answer is dropped. Ordering queues
  // hold the events of one partition, so they go whole.
  size_t left = std::erase_if(works_, ours);
  if (left > 0 || unacknowledged > 0)
    log_.warn("gave up on events in flight; they will be consumed again",
              {{"reason", why}, {"events", left}, {"unacknowledged", unacknowledged}});
  std::erase_if(key_queues_, [this](const auto& queue) { return !works_.contains(queue.second.front()); });
  std::erase_if(unpublished_, [this](uint64_t id) { return !works_.contains(id); });
  for (auto& [partition, order] : unreleased_)
    std::erase_if(order, [this](const auto& entry) { return !works_.contains(entry.second); });
  std::erase_if(unreleased_, [](const auto& partition) { return partition.second.empty(); });
  std::erase_if(blocked_, [this](const PartitionKey& partition) { return !unreleased_.contains(partition); });
}

void Relay::release(const PartitionKey& partition) {
  auto part = unreleased_.find(partition);
  if (part == unreleased_.end()) return;
  auto& order = part->second;
  while (!order.empty() && !fatal_kafka_) {
    auto node = works_.find(order.front().second);
    Work& work = node->second;
    if (!work.done) return;  // the outcomes behind it wait for it
    // The next transaction takes it; or an aborted one's records go first.
    if (txn_state_ == TxnState::Committing || reproduce_at_) break;
    const Outcome& outcome = work.outcome;
    if (dead_letter_due(work)) {
      auto queued = produce_in_transaction(RecordTopic::DeadLetter, work.event.input, -1, work.event.key,
                                           work.event.value, dead_letter_headers(work));
      if (queued != kafka::Publisher::Queued::Ok) break;
      work.dead_letter_queued = true;
      metrics_.dead_letter(outcome.status);
    }
    auto queued = produce_in_transaction(RecordTopic::Outcome, work.event.input, work.event.timestamp_ms,
                                         outcome_key(work), to_json(outcome), work.event.headers);
    if (queued != kafka::Publisher::Queued::Ok) break;
    metrics_.outcome(outcome.operation, outcome.status);
    consumer_.offsets().finish(outcome.input.topic, outcome.input.partition, outcome.input.offset);
    works_.erase(node);
    order.pop_front();
  }
  if (!order.empty()) {
    // Producer queue full, a commit under way, or the transaction aborted
    // (its records produced again): tried again each turn.
    if (!fatal_kafka_ && works_.at(order.front().second).done) blocked_.insert(partition);
    return;
  }
  unreleased_.erase(part);
}

kafka::Publisher::Queued Relay::produce_in_transaction(RecordTopic topic, const InputCoordinates& input,
                                                       int64_t timestamp_ms, const std::optional<std::string>& key,
                                                       const std::string& value, const TxnRecords::Headers& headers) {
  if (txn_state_ == TxnState::Idle) {
    auto begun = publisher_.begin_transaction();
    if (begun.result != kafka::Publisher::Txn::Ok) {
      transaction_failed("begin", {begun.result == kafka::Publisher::Txn::Fenced ? begun.result : kafka::Publisher::Txn::Fatal,
                                   begun.error});
      return kafka::Publisher::Queued::Failed;
    }
    txn_state_ = TxnState::Open;
  }
  std::string error;
  const std::string& name = topic == RecordTopic::DeadLetter ? options_.dead_letter_topic : options_.outcome_topic;
  auto queued = publisher_.publish(error, name, key, value, headers, input, timestamp_ms);
  if (queued == kafka::Publisher::Queued::Ok) {
    txn_records_.keep(topic, input, timestamp_ms, key, value, headers);
  } else if (queued == kafka::Publisher::Queued::Failed) {
    // Without a fatal error, the transaction is in an abortable state (a
    // record of it failed, say): librdkafka refuses records until it ends.
    auto fatal = publisher_.fatal_error();
    transaction_failed("produce", fatal ? *fatal : kafka::Publisher::TxnResult{kafka::Publisher::Txn::Abort, error});
  }
  return queued;
}

kafka::Consumer::CommitResult Relay::commit_transaction(const rd_kafka_topic_partition_list_t* positions) {
  using Txn = kafka::Publisher::Txn;
  using Result = kafka::Consumer::CommitResult;
  if (fatal_kafka_) return Result::Failed;  // nothing more is committed
  // An aborted transaction's records go in before any offset is committed.
  if (reproduce_at_) return Result::Failed;
  if (txn_state_ == TxnState::Idle) {
    // Offsets without outcomes (all dropped, say): a transaction of their own.
    auto begun = publisher_.begin_transaction();
    if (begun.result != Txn::Ok) {
      transaction_failed("begin", {begun.result == Txn::Fenced ? begun.result : Txn::Fatal, begun.error});
      return Result::Failed;
    }
    txn_state_ = TxnState::Open;
  }
  if (txn_state_ == TxnState::Open) {
    // librdkafka's transaction calls block (a flush, and a few round trips):
    // a thread makes them while the loop goes on, sends finishing and their
    // outcomes waiting for the next transaction. From here no records go
    // in, so the positions stay these until it ends.
    txn_state_ = TxnState::Committing;
    commit_started_ = clock_.now();
    kafka::PartitionList list(rd_kafka_topic_partition_list_copy(positions));
    commit_ = std::async(std::launch::async, [this, list = std::move(list), group = consumer_.group_metadata()] {
      constexpr auto kStep = std::chrono::milliseconds(5000);
      auto deadline = std::chrono::steady_clock::now() + options_.transaction_timeout;
      auto step = [&](auto call) {
        kafka::Publisher::TxnResult result;
        do result = call();  // a timed-out call resumes
        while (result.result == Txn::Retry && std::chrono::steady_clock::now() < deadline);
        return result;
      };
      auto result = step([&] { return publisher_.send_offsets(list.get(), group.get(), kStep); });
      if (result.result == Txn::Ok) result = step([&] { return publisher_.commit_transaction(kStep); });
      wake_.wake();
      return result;
    });
  }
  if (!commit_ended(Clock::duration::zero())) return stuck_ ? Result::Failed : Result::Pending;
  auto committed = commit_.get();
  if (committed.result != Txn::Ok) {
    txn_state_ = TxnState::Open;  // for the abort
    transaction_failed("commit", committed);
    return Result::Failed;
  }
  transaction_committed();
  for (auto blocked = std::exchange(blocked_, {}); const auto& partition : blocked) release(partition);
  return Result::Committed;
}

bool Relay::commit_ended(Clock::duration wait) {
  if (commit_.wait_for(std::max(wait, Clock::duration::zero())) == std::future_status::ready) return true;
  if (clock_.now() - commit_started_ < options_.transaction_timeout + kStuckGrace) return false;
  transaction_stuck(commit_started_);
  return false;
}

void Relay::transaction_stuck(Clock::time_point since) {
  log_.error("a Kafka transaction call has not returned; stopping, so that the relay is started again "
             "(librdkafka waits for ever on a coordinator a broker restart replaced: confluentinc/librdkafka#5456)",
             {{"waited_ms", std::chrono::duration_cast<milliseconds>(clock_.now() - since).count()}});
  stuck_ = fatal_kafka_ = true;
}

void Relay::transaction_committed() {
  txn_state_ = TxnState::Idle;
  txn_records_.clear();
  txn_failure_logged_ = false;
  aborting_since_.reset();
  reproduce_pause_ = kFirstReproducePause;
  metrics_.transaction(/*committed=*/true);
  metrics_.transaction_commit(std::chrono::duration<double>(clock_.now() - commit_started_).count());
}

bool Relay::commit_transaction_now() {
  reproduce(nullptr);  // a revoke or a stop does not wait for the pause
  auto deadline = clock_.now() + options_.transaction_timeout;
  for (;;) {
    consumer_.commit_now();
    if (txn_state_ == TxnState::Idle || fatal_kafka_) return txn_state_ == TxnState::Idle && !fatal_kafka_;
    if (clock_.now() >= deadline) return false;
    if (commit_.valid()) commit_.wait_for(milliseconds(100));  // the commit thread
    else publisher_.poll(milliseconds(5));
  }
}

void Relay::transaction_failed(const char* what, const kafka::Publisher::TxnResult& result) {
  using Txn = kafka::Publisher::Txn;
  if (result.result == Txn::Fenced || result.result == Txn::Fatal) {
    fenced_ = fenced_ || result.result == Txn::Fenced;
    if (!fatal_kafka_)
      log_.error(result.result == Txn::Fenced ? "fenced: another instance uses this transactional.id; stopping"
                                               : "Kafka transaction failed; stopping",
                 {{"step", what}, {"error", result.error}});
    fatal_kafka_ = true;
    return;
  }
  // Abortable, or retried for too long: abort, and produce the records
  // again after a pause; but not for ever (a record the broker refuses each
  // time, say): then stop, as at-least-once mode does when Kafka refuses an
  // outcome.
  auto now = clock_.now();
  if (!aborting_since_) aborting_since_ = now;
  if (now - *aborting_since_ >= options_.transaction_timeout) {
    log_.error("Kafka transactions keep failing; stopping",
               {{"step", what}, {"error", result.error},
                {"failing_for_ms", std::chrono::duration_cast<milliseconds>(now - *aborting_since_).count()}});
    fatal_kafka_ = true;
    return;
  }
  if (!abort_open_transaction()) return;
  log_.warn("Kafka transaction aborted; its records are produced again",
            {{"step", what}, {"error", result.error},
             {"in_ms", std::chrono::duration_cast<milliseconds>(reproduce_pause_).count()}});
  reproduce_at_ = now + reproduce_pause_;
  reproduce_pause_ = std::min(2 * reproduce_pause_, Clock::duration(kMaxReproducePause));
}

bool Relay::abort_open_transaction() {
  using Txn = kafka::Publisher::Txn;
  if (stuck_) return false;  // the commit under way never ends
  if (txn_state_ == TxnState::Committing && commit_.valid()) {
    // One transaction call at a time: the commit under way ends first, or
    // is found stuck (a revoke after a broker restart, say).
    if (!commit_ended(commit_started_ + options_.transaction_timeout + kStuckGrace - clock_.now())) return false;
    if (commit_.get().result == Txn::Ok) {
      transaction_committed();
      return true;
    }
  }
  if (txn_state_ != TxnState::Idle) {
    txn_state_ = TxnState::Idle;
    // The abort can wait for ever too (#5456, after a broker restart),
    // whatever its timeout: a thread makes the calls, and the loop waits for
    // it only as long as for a commit.
    const auto started = clock_.now();
    abort_ = std::async(std::launch::async, [this] {
      auto deadline = std::chrono::steady_clock::now() + options_.transaction_timeout;
      kafka::Publisher::TxnResult result;
      do result = publisher_.abort_transaction(std::chrono::milliseconds(2000));
      while (result.result == Txn::Retry && std::chrono::steady_clock::now() < deadline);
      return result;
    });
    if (abort_.wait_for(options_.transaction_timeout + kStuckGrace) != std::future_status::ready) {
      transaction_stuck(started);
      return false;
    }
    const kafka::Publisher::TxnResult aborted = abort_.get();
    if (aborted.result != Txn::Ok) {
      // The producer cannot go on.
      transaction_failed("abort", {aborted.result == Txn::Fenced ? aborted.result : Txn::Fatal, aborted.error});
      return false;
    }
    metrics_.transaction(/*committed=*/false);
    txn_failure_logged_ = false;
  }
  reproduce_at_ = clock_.now();  // unless the caller waits
  return true;
}

void Relay::reproduce(const kafka::Consumer::Partitions* dropping) {
  if (!reproduce_at_) return;
  reproduce_at_.reset();
  auto records = txn_records_.take(dropping);
  for (auto r = records.begin(); r != records.end(); ++r) {
    for (;;) {
      auto queued = produce_in_transaction(r->topic, r->input, r->timestamp_ms, r->key, r->value, r->headers);
      if (queued == kafka::Publisher::Queued::Ok) break;
      if (queued == kafka::Publisher::Queued::Failed) {
        // Aborted again (or stopping): the rest wait with the ones produced.
        for (; r != records.end(); ++r)
          txn_records_.keep(r->topic, r->input, r->timestamp_ms, r->key, r->value, r->headers);
        return;
      }
      publisher_.poll(std::chrono::milliseconds(10));  // queue full: let it drain
    }
  }
}

RelayExit Relay::run(const std::atomic<bool>& stop) {
  if (options_.exactly_once) {
    // Aborts what a previous instance with this transactional.id left open.
    auto deadline = clock_.now() + options_.transaction_timeout;
    kafka::Publisher::TxnResult init;
    do init = publisher_.init_transactions(std::chrono::milliseconds(5000));
    while (init.result == kafka::Publisher::Txn::Retry && !stop && clock_.now() < deadline);
    if (init.result != kafka::Publisher::Txn::Ok) {
      log_.error("cannot start Kafka transactions", {{"error", init.error}});
      consumer_.close();
      return init.result == kafka::Publisher::Txn::Fenced ? RelayExit::Fenced : RelayExit::FatalKafka;
    }
  }
  client_.warm_up();
  if (hooks_.started) hooks_.started();
  // Backpressure: a full window leaves fetched records in the consumer's
  // buffer; a full buffer that has not moved for a second pauses the input
  // partitions.
  while (!stop && !fatal_kafka_ && !client_.fatal_error()) turn(milliseconds(100), /*consume=*/true);
  if (stuck_) return RelayExit::Stuck;  // draining, committing or closing would wait for the stuck call
  if (hooks_.stopping) hooks_.stopping();
  if (client_.fatal_error()) log_.error("SFMC refused the credentials; stopping", {{"error", *client_.fatal_error()}});
  if (!fatal_kafka_) drain("stopping");
  if (options_.exactly_once) commit_transaction_now();
  else consumer_.commit_now();
  if (stuck_) return RelayExit::Stuck;  // found stuck while stopping: closing would revoke, and wait
  consumer_.close();
  log_.info("stopped");
  if (fenced_) return RelayExit::Fenced;
  if (fatal_kafka_) return RelayExit::FatalKafka;
  return client_.fatal_error() ? RelayExit::FatalConfig : RelayExit::Stopped;
}

}  // namespace sfmc
