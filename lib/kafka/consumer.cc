#include "kafka/consumer.h"

#include <rapidjson/document.h>
#include <syslog.h>

#include <algorithm>
#include <stdexcept>
#include <string_view>

#include "kafka/connection_error.h"

namespace sfmc::kafka {

void Consumer::log_trampoline(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  auto* self = static_cast<Consumer*>(rd_kafka_opaque(rk));
  if (self->log_) self->log_(log_level(level, facility, message), facility, message);
}

namespace {
constexpr int kFetchQueueBackoffSince = 0x020200ff;  // librdkafka 2.2.0
}  // namespace

Consumer::Consumer(Properties properties, const std::vector<std::string>& topics, LogHook log, StatsHook stats,
                   size_t buffered)
    : log_(std::move(log)), stats_(std::move(stats)), capacity_(std::max<size_t>(1, buffered)) {
  security_ = security_settings(properties);
  // At-least-once: offsets are committed by commit_finished() only over
  // events whose outcome was acknowledged, never by librdkafka on its own.
  properties["enable.auto.offset.store"] = "false";
  properties["enable.auto.commit"] = "false";
  if (auto it = properties.find("auto.commit.interval.ms"); it != properties.end()) {
    commit_interval_ = std::chrono::milliseconds(std::stol(it->second));
    properties.erase(it);
  }
  // librdkafka prefetches up to 64 MiB by default (and fetches up to 50 MB at
  // once). Less keeps memory flat whatever the backlog. Each partition's
  // records wait in a queue of their own (see split_off), so the limit is per
  // assigned partition. Once a queue is at the limit, librdkafka (from 2.2)
  // fetches that partition again after fetch.queue.backoff.ms, 1 s by
  // default, which capped the relay at one prefetch a second; 10 ms does not.
  // A queue then needs to cover only that pause: with 1.5 KB events at about
  // 12,000 events/s, 512 KiB to 2 MiB per partition ran alike on 6
  // partitions; on a single one 1 MiB did too (512 KiB: 8,700 events/s
  // against 10,000 at 20 ms). 4 MiB per partition took the peak RSS on 6
  // partitions from 50 to 75 MiB.
  // librdkafka 2.0 (SFMC_RELAY_SYSTEM_LIBRDKAFKA on Debian 12) has no such
  // setting: it fetches again only at its broker thread's next wake-up, up
  // to a second later, so its queues must hold about a second of input (8 MiB
  // in all gave 7,400 events/s, a sixth of that per partition on 6). Small
  // fetches overshoot the limit less: the peak of a long run is 5 MiB lower
  // with 1 MiB fetches than with 2 MiB ones.
  if (rd_kafka_version() >= kFetchQueueBackoffSince) {
    properties.try_emplace("fetch.queue.backoff.ms", "10");
    properties.try_emplace("queued.max.messages.kbytes", "1024");
  } else {
    properties.try_emplace("queued.max.messages.kbytes", "2048");
  }
  properties.try_emplace("fetch.max.bytes", "1048576");
  properties.try_emplace("max.partition.fetch.bytes", "262144");
  properties.try_emplace("auto.offset.reset", "earliest");
  properties.try_emplace("enable.partition.eof", "false");
  // The statistics tell when a broker is back (brokers_up) and give the
  // owner's hook the consumer lag.
  properties.try_emplace("statistics.interval.ms", "5000");
  Conf conf = make_conf(properties);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &Consumer::rebalance_trampoline);
  rd_kafka_conf_set_log_cb(conf.get(), &Consumer::log_trampoline);
  rd_kafka_conf_set_error_cb(conf.get(), &Consumer::error_trampoline);
  rd_kafka_conf_set_stats_cb(conf.get(), &Consumer::stats_trampoline);
  handle_ = make_client(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(handle_.get());
  commits_.reset(rd_kafka_queue_new(handle_.get()));

  PartitionList subscription(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const auto& topic : topics) rd_kafka_topic_partition_list_add(subscription.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (auto err = rd_kafka_subscribe(handle_.get(), subscription.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error(std::string("cannot subscribe: ") + rd_kafka_err2str(err));
}

Consumer::~Consumer() { close(); }

bool statistics_show_a_broker_up(const char* statistics_json) {
  rapidjson::Document doc;
  doc.Parse(statistics_json);
  if (doc.HasParseError() || !doc.IsObject()) return false;
  auto brokers = doc.FindMember("brokers");
  if (brokers == doc.MemberEnd() || !brokers->value.IsObject()) return false;
  auto is = [](const rapidjson::Value& broker, const char* name, std::string_view value) {
    auto member = broker.FindMember(name);
    return member != broker.MemberEnd() && member->value.IsString() && member->value.GetString() == value;
  };
  for (const auto& [name, broker] : brokers->value.GetObject()) {
    bool of_the_cluster = broker.IsObject() && (is(broker, "source", "configured") || is(broker, "source", "learned"));
    if (of_the_cluster && is(broker, "state", "UP")) return true;
  }
  return false;
}

// Errors and statistics are served from the consumer queue (librdkafka
// forwards its reply queue there), so on the thread that calls serve().
void Consumer::error_trampoline(rd_kafka_t*, int err, const char* reason, void* opaque) {
  static_cast<Consumer*>(opaque)->client_error(static_cast<rd_kafka_resp_err_t>(err), reason);
}

void Consumer::client_error(rd_kafka_resp_err_t err, const std::string& reason) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
      brokers_up_ = false;
      // The connection error says why; librdkafka's count ("1/1 brokers
      // are down") may be read before the last broker is counted.
      brokers_down_ = last_connection_error_.empty() ? reason : last_connection_error_;
      break;
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR__SSL: {
      // A TLS or SASL failure in words that name the settings involved.
      auto explained = explain_security_failure(reason, security_);
      last_connection_error_ = explained ? *explained : reason;
      if (!brokers_down_.empty()) brokers_down_ = last_connection_error_;  // the latest reason for the outage's next line
      break;
    }
    default: break;
  }
  // What librdkafka logs itself when no error callback is set.
  if (log_) log_(log_level(LOG_ERR, "ERROR", reason), "ERROR", reason);
}

int Consumer::stats_trampoline(rd_kafka_t*, char* json, size_t, void* opaque) {
  auto* self = static_cast<Consumer*>(opaque);
  if (statistics_show_a_broker_up(json)) self->broker_answered();
  if (self->stats_) self->stats_(json);
  return 0;  // librdkafka frees the JSON
}

void Consumer::broker_answered() {
  brokers_up_ = true;
  brokers_down_.clear();
  last_connection_error_.clear();
}

void Consumer::rebalance_trampoline(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                                    void* opaque) {
  static_cast<Consumer*>(opaque)->rebalance(err, parts);
}

// The classic protocol's eager assignors hand out and take back the whole
// assignment; cooperative-sticky and the consumer protocol (KIP-848) add and
// remove partitions incrementally, through other calls.
void Consumer::rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
  const char* protocol = rd_kafka_rebalance_protocol(handle_.get());  // null while the group is shutting down
  bool incremental = protocol != nullptr && std::string_view(protocol) == "COOPERATIVE";
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) return assign(parts, incremental);
  if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && log_)
    log_(LOG_ERR, "REBALANCE", std::string("rebalance failed, giving up the assignment: ") + rd_kafka_err2str(err));
  revoke(parts, incremental);
}

void Consumer::assign(rd_kafka_topic_partition_list_t* parts, bool incremental) {
  std::string error;
  if (incremental) {
    if (Error refused{rd_kafka_incremental_assign(handle_.get(), parts)}) error = rd_kafka_error_string(refused.get());
  } else if (auto err = rd_kafka_assign(handle_.get(), parts); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = rd_kafka_err2str(err);
  }
  assignment_error_ = error;
  if (!error.empty()) {
    if (log_) log_(LOG_ERR, "REBALANCE", "cannot take " + std::to_string(parts->cnt) + " assigned partition(s): " + error);
    return;
  }
  assigned_ = true;
  broker_answered();
  if (!incremental) feeds_.clear();
  split_off(parts);
  assigned_partitions_ = (incremental ? assigned_partitions_ : 0) + static_cast<size_t>(parts->cnt);
  // librdkafka keeps a partition's pause across assignments: new partitions
  // take the state of the others.
  if (paused_)
    rd_kafka_pause_partitions(handle_.get(), parts);
  else
    rd_kafka_resume_partitions(handle_.get(), parts);
  moving_at_ = std::chrono::steady_clock::now();
  if (log_ && (parts->cnt > 0 || !incremental))  // an incremental rebalance may add nothing
    log_(LOG_INFO, "REBALANCE",
         "assigned " + std::to_string(parts->cnt) + " partition(s) (" + std::to_string(assigned_partitions_) + " held)");
}

void Consumer::revoke(rd_kafka_topic_partition_list_t* parts, bool incremental) {
  bool lost = rd_kafka_assignment_lost(handle_.get());
  Partitions revoked;
  for (int i = 0; i < parts->cnt; ++i) revoked.emplace(parts->elems[i].topic, parts->elems[i].partition);
  // Finish what we hold, commit it while we still own the partitions, then
  // let them go. A lost assignment cannot commit (the attempt would wait for
  // the coordinator, then fail): its events are consumed again.
  if (revoke_hook_) revoke_hook_(revoked, lost);
  if (!lost) commit_now();
  // Fetched, not started: the partitions' next owner reads them.
  std::erase_if(buffer_, [&](const InboundEvent& e) { return revoked.count({e.input.topic, e.input.partition}) > 0; });
  for (const auto& [topic, partition] : revoked) tracker_.forget(topic, partition);
  std::erase_if(feeds_, [&](const Feed& feed) { return revoked.count(feed.partition) > 0; });
  std::string error;
  if (incremental) {
    if (Error refused{rd_kafka_incremental_unassign(handle_.get(), parts)}) error = rd_kafka_error_string(refused.get());
  } else if (auto err = rd_kafka_assign(handle_.get(), nullptr); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = rd_kafka_err2str(err);
  }
  if (!incremental || lost) {
    // The whole assignment is gone: a member again once the group answers,
    // and answers to commits of the old generation may never come.
    assigned_ = false;
    commits_in_flight_ = 0;
  }
  assigned_partitions_ -= std::min(assigned_partitions_, revoked.size());
  if (assigned_partitions_ == 0) paused_ = false;
  if (!log_) return;
  if (!error.empty()) log_(LOG_ERR, "REBALANCE", "cannot give up revoked partitions: " + error);
  std::string held = " (" + std::to_string(assigned_partitions_) + " held)";
  if (lost)
    log_(LOG_WARNING, "REBALANCE",
         "the group took back " + std::to_string(parts->cnt) + " partition(s)" + held +
             ": session expired or member fenced; nothing committed for them, their uncommitted events will be "
             "consumed again");
  else
    log_(LOG_INFO, "REBALANCE", "revoked " + std::to_string(parts->cnt) + " partition(s)" + held);
}

void Consumer::serve() {
  using namespace std::chrono_literals;
  serve_commit_results();
  auto now = std::chrono::steady_clock::now();
  if (buffer_.size() < capacity_) {
    moving_at_ = now;
    if (paused_ && buffer_.size() <= capacity_ / 2) pause(false);
    while (buffer_.size() < capacity_ && receive()) {
    }
  } else if (now - last_full_poll_ >= 100ms) {
    // Full: records stay in librdkafka's queue (it stops fetching when that
    // is full), but rebalances must still be served, and each poll may
    // bring one more record.
    last_full_poll_ = now;
    receive();
  }
  // A pipeline that has taken nothing for a second is stuck (SFMC down,
  // account cooling down, outcome topic full): stop fetching altogether.
  // Not sooner: resuming costs a fetch round trip and librdkafka's backoff.
  if (buffer_.size() >= capacity_ && now - moving_at_ >= 1s) pause(true);
}

std::optional<InboundEvent> Consumer::take() {
  if (buffer_.empty()) return std::nullopt;
  InboundEvent event = std::move(buffer_.front());
  buffer_.pop_front();
  moving_at_ = std::chrono::steady_clock::now();
  tracker_.begin(event.input.topic, event.input.partition, event.input.offset);
  return event;
}

// librdkafka forwards every partition's queue to the consumer queue; taken
// back, a partition's records wait in its own queue. What was forwarded
// before stays in the consumer queue, older than anything in the partition's.
void Consumer::split_off(const rd_kafka_topic_partition_list_t* parts) {
  for (int i = 0; i < parts->cnt; ++i) {
    const auto& p = parts->elems[i];
    Queue queue(rd_kafka_queue_get_partition(handle_.get(), p.topic, p.partition));
    if (!queue) continue;  // not a partition librdkafka knows: its records stay in the consumer queue
    rd_kafka_queue_forward(queue.get(), nullptr);
    if (wake_fd_ >= 0) rd_kafka_queue_io_event_enable(queue.get(), wake_fd_, "p", 1);
    feeds_.push_back({{p.topic, p.partition}, std::move(queue)});
  }
}

void Consumer::hold(const std::string& topic, int32_t partition, bool held) {
  for (auto& feed : feeds_)
    if (feed.partition.second == partition && feed.partition.first == topic) feed.held = held;
}

bool Consumer::receive() {
  // The consumer queue first, whole: rebalances and errors, and the records
  // forwarded before a partition's queue was split off, which must be taken
  // before that partition's own. Then one record from each partition in turn.
  if (Message message{rd_kafka_consumer_poll(handle_.get(), 0)}) {
    accept(std::move(message));
    return true;
  }
  for (size_t tried = 0; tried < feeds_.size(); ++tried) {
    Feed& feed = feeds_[next_feed_++ % feeds_.size()];
    if (feed.held) continue;
    if (Message message{rd_kafka_consume_queue(feed.queue.get(), 0)}) {
      accept(std::move(message));
      return true;
    }
  }
  return false;
}

void Consumer::accept(Message message) {
  if (message->err) {
    if (log_) log_(LOG_WARNING, "CONSUME", rd_kafka_message_errstr(message.get()));
    return;
  }
  broker_answered();
  buffer_.push_back(copy_out(message.get()));
}

namespace {

PartitionList to_list(const std::vector<std::pair<OffsetTracker::PartitionKey, int64_t>>& positions) {
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(positions.size())));
  for (const auto& [key, position] : positions)
    rd_kafka_topic_partition_list_add(list.get(), key.first.c_str(), key.second)->offset = position;
  return list;
}

}  // namespace

void Consumer::commit_finished(bool urgent) {
  using namespace std::chrono_literals;
  // Up to a few commits in flight, so a slow broker answer does not hold
  // back the next positions when the window needs them.
  constexpr int kMaxCommitsInFlight = 8;
  constexpr auto kUrgentGap = 10ms;
  auto now = std::chrono::steady_clock::now();
  if (commits_in_flight_ >= kMaxCommitsInFlight || now < commit_retry_at_ ||
      now - last_commit_ < (urgent ? kUrgentGap : commit_interval_))
    return;
  if (committer_) {
    // In a transaction: every position beyond the confirmed commit, at once.
    auto positions = tracker_.take_committable(/*unconfirmed_too=*/true);
    if (positions.empty()) return;
    last_commit_ = now;
    return commit_through_committer(to_list(positions));
  }
  auto positions = tracker_.take_committable();
  if (positions.empty()) return;
  // The result arrives on commits_ (serve_commit_results), apart from the
  // record queue, so a full pipeline still hears about it at once.
  PartitionList list = to_list(positions);
  auto err = rd_kafka_commit_queue(handle_.get(), list.get(), commits_.get(), nullptr, nullptr);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return record_commit(err, list.get());
  ++commits_in_flight_;
  last_commit_ = now;
}

void Consumer::serve_commit_results() {
  while (Event event{rd_kafka_queue_poll(commits_.get(), 0)}) {
    if (rd_kafka_event_type(event.get()) != RD_KAFKA_EVENT_OFFSET_COMMIT) continue;
    commits_in_flight_ = std::max(0, commits_in_flight_ - 1);
    record_commit(rd_kafka_event_error(event.get()), rd_kafka_event_topic_partition_list(event.get()));
  }
}

void Consumer::record_commit(rd_kafka_resp_err_t err, const rd_kafka_topic_partition_list_t* offsets) {
  bool failed = err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET;
  if (failed && (offsets == nullptr || offsets->cnt == 0)) tracker_.commit_failed_all();
  for (int i = 0; offsets != nullptr && i < offsets->cnt; ++i) {
    const auto& p = offsets->elems[i];
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && p.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      tracker_.committed(p.topic, p.partition, p.offset);
    } else {
      // Coordinator moving, broker down: sent again after the interval.
      tracker_.commit_failed(p.topic, p.partition);
      failed = true;
    }
  }
  if (failed) {
    commit_retry_at_ = std::chrono::steady_clock::now() + commit_interval_;
    if (log_) log_(LOG_WARNING, "COMMIT", std::string("commit failed: ") + rd_kafka_err2str(err));
  }
}

void Consumer::commit_now() {
  serve_commit_results();
  auto positions = tracker_.take_committable(/*unconfirmed_too=*/true);
  if (positions.empty()) return;
  PartitionList list = to_list(positions);
  if (log_) log_(LOG_DEBUG, "COMMIT", "committing " + std::to_string(list->cnt) + " partition(s) synchronously");
  if (committer_) return commit_through_committer(std::move(list));
  auto err = rd_kafka_commit(handle_.get(), list.get(), /*async=*/0);
  record_commit(err, list.get());
}

void Consumer::commit_through_committer(PartitionList list) {
  auto result = committer_(list.get());
  if (result == CommitResult::Committed) return record_commit(RD_KAFKA_RESP_ERR_NO_ERROR, list.get());
  for (int i = 0; i < list->cnt; ++i) tracker_.commit_failed(list->elems[i].topic, list->elems[i].partition);
  if (result == CommitResult::Pending)
    last_commit_ = {};  // asked again at the next turn
  else
    commit_retry_at_ = std::chrono::steady_clock::now() + commit_interval_;  // the committer said why
}

GroupMetadata Consumer::group_metadata() const { return GroupMetadata(rd_kafka_consumer_group_metadata(handle_.get())); }

void Consumer::pause(bool paused) {
  if (paused == paused_) return;
  paused_ = paused;
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(handle_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  PartitionList assignment(raw);
  if (paused)
    rd_kafka_pause_partitions(handle_.get(), assignment.get());
  else
    rd_kafka_resume_partitions(handle_.get(), assignment.get());
}

void Consumer::wake_on(int fd) {
  wake_fd_ = fd;
  for (auto& feed : feeds_) rd_kafka_queue_io_event_enable(feed.queue.get(), fd, "p", 1);
  Queue queue(rd_kafka_queue_get_consumer(handle_.get()));
  rd_kafka_queue_io_event_enable(queue.get(), fd, "c", 1);
  rd_kafka_queue_io_event_enable(commits_.get(), fd, "o", 1);
}

void Consumer::close() {
  if (closed_ || !handle_) return;
  closed_ = true;
  rd_kafka_consumer_close(handle_.get());  // runs the revoke path, which commits
  feeds_.clear();
}

}  // namespace sfmc::kafka
