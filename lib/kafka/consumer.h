// The input side: a consumer-group member that hands out InboundEvents and
// commits offsets only when told the work for them is done.
//
// Fetched records wait in a local buffer until the owner takes them; behind
// it, librdkafka keeps each assigned partition's prefetch in a queue of its
// own (bounded by queued.max.messages.kbytes, per partition), and the
// buffer is filled from those queues in turn: a partition with a backlog
// cannot starve the others, and librdkafka fetches for every partition
// whose queue has room. A full pipeline costs no refetch, and commit
// results and rebalances are still served. Only a buffer that has not moved
// for a second (SFMC down, say) pauses the partitions, until it is half empty.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/event.h"
#include "kafka/handles.h"
#include "kafka/offset_tracker.h"

namespace sfmc::kafka {

// Whether librdkafka's statistics JSON shows a broker of the cluster (not
// librdkafka's internal or logical ones) connected.
bool statistics_show_a_broker_up(const char* statistics_json);

class Consumer {
 public:
  using Partitions = std::set<OffsetTracker::PartitionKey>;
  // Called inside serve() when partitions are about to be revoked, before
  // their final commit: the owner must finish (or give up) the work it holds
  // for them. Under an incremental (cooperative) rebalance the other
  // partitions stay assigned and their work goes on. `lost`: the group has
  // already taken them back (session expired, member fenced); nothing of
  // theirs can be committed any more, so their work is only given up.
  using RevokeHook = std::function<void(const Partitions& revoked, bool lost)>;
  using LogHook = std::function<void(int level, const std::string& facility, const std::string& message)>;
  // librdkafka's statistics JSON (every statistics.interval.ms, 5 s unless
  // set), served by serve() on the caller's thread.
  using StatsHook = std::function<void(const char* json)>;

  // `properties` must contain bootstrap.servers and group.id; the offset
  // settings that at-least-once depends on are forced here. `buffered`: how
  // many fetched records may wait for take().
  Consumer(Properties properties, const std::vector<std::string>& topics, LogHook log, StatsHook stats = {},
           size_t buffered = 500);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  void on_revoke(RevokeHook hook) { revoke_hook_ = std::move(hook); }

  // Exactly-once mode: positions are committed by `committer` (with the
  // outcomes, in a Kafka transaction) instead of by the consumer. Pending:
  // the commit is under way (offered again at once, the same positions);
  // Failed: offered again after the commit interval.
  enum class CommitResult { Committed, Pending, Failed };
  using Committer = std::function<CommitResult(const rd_kafka_topic_partition_list_t* positions)>;
  void commit_through(Committer committer) { committer_ = std::move(committer); }
  // The member's group metadata (group, generation, member id) for a transaction.
  GroupMetadata group_metadata() const;

  // Serves librdkafka without waiting: callbacks (rebalance, commit results,
  // errors, statistics) run, fetched records move to the buffer. Errors
  // (broker down, topic missing) are logged.
  void serve();
  // The oldest buffered event, now tracked as in flight; nullopt when none.
  std::optional<InboundEvent> take();
  // A held partition's records stay in librdkafka's queue (whose bound then
  // stops its fetches) until it is let go; the others go on. A new
  // assignment holds nothing.
  void hold(const std::string& topic, int32_t partition, bool held);

  OffsetTracker& offsets() { return tracker_; }
  // Commits, asynchronously, the positions finished events allow: every
  // auto.commit.interval.ms (default 100), or within 10 ms when `urgent`.
  void commit_finished(bool urgent);
  // Synchronous commit of every finished position (revoke, shutdown).
  void commit_now();
  // Leaves the group (after the owner has finished its work).
  void close();

  // True once the group gave this member its partitions (possibly none),
  // until they are revoked all at once or the assignment is lost.
  bool assigned() const { return assigned_; }
  // Why librdkafka refused the last assignment; empty when it took it.
  const std::string& assignment_error() const { return assignment_error_; }
  size_t assigned_partitions() const { return assigned_partitions_; }
  // True once a broker answered (a record, an assignment, or a broker UP in
  // librdkafka's statistics); false after librdkafka reported every broker
  // down, until one answers again.
  bool brokers_up() const { return brokers_up_; }
  // Why librdkafka reported every broker down (its last connection error);
  // empty while brokers answer, and before librdkafka said anything.
  const std::string& brokers_down() const { return brokers_down_; }

  // True while fetching is paused because the buffer is full.
  bool paused() const { return paused_; }
  size_t buffered() const { return buffer_.size(); }

  // Writes a byte to `fd` whenever records or events arrive, so one poll()
  // can wait on Kafka and HTTP together.
  void wake_on(int fd);

 private:
  static void rebalance_trampoline(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                                   void* opaque);
  static int stats_trampoline(rd_kafka_t* rk, char* json, size_t length, void* opaque);
  static void error_trampoline(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  void client_error(rd_kafka_resp_err_t err, const std::string& reason);
  static void log_trampoline(const rd_kafka_t* rk, int level, const char* facility, const char* message);
  void rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);
  void assign(rd_kafka_topic_partition_list_t* parts, bool incremental);
  void revoke(rd_kafka_topic_partition_list_t* parts, bool incremental);
  bool receive();  // false: nothing waiting
  void accept(Message message);
  void split_off(const rd_kafka_topic_partition_list_t* parts);
  void serve_commit_results();
  void record_commit(rd_kafka_resp_err_t err, const rd_kafka_topic_partition_list_t* offsets);
  void commit_through_committer(PartitionList list);
  void pause(bool paused);
  void broker_answered();

  LogHook log_;
  StatsHook stats_;
  RevokeHook revoke_hook_;
  Committer committer_;
  OffsetTracker tracker_;
  Handle handle_;
  Queue commits_;  // commit results
  // Each assigned partition's own queue, taken from in turn (next_feed_).
  struct Feed {
    OffsetTracker::PartitionKey partition;
    Queue queue;
    bool held = false;
  };
  std::vector<Feed> feeds_;
  size_t next_feed_ = 0;
  int wake_fd_ = -1;
  std::deque<InboundEvent> buffer_;
  size_t capacity_;
  std::chrono::steady_clock::time_point moving_at_{};  // last take(), or the buffer last not full
  std::chrono::steady_clock::time_point last_full_poll_{};
  std::chrono::milliseconds commit_interval_{100};
  std::chrono::steady_clock::time_point last_commit_{};
  std::chrono::steady_clock::time_point commit_retry_at_{};
  int commits_in_flight_ = 0;
  bool assigned_ = false;
  bool closed_ = false;
  bool paused_ = false;
  bool brokers_up_ = false;
  std::string brokers_down_;
  std::string last_connection_error_;  // since a broker last answered
  Properties security_;                // what a TLS or SASL failure's line names (no secret)
  size_t assigned_partitions_ = 0;
  std::string assignment_error_;
};

}  // namespace sfmc::kafka
