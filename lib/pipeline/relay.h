// The engine: Kafka record -> decode/validate -> call SFMC -> publish outcome
// -> commit, with many events in flight on one thread. Events finish out of
// order; a partition's offset is committed only over events whose outcome
// Kafka acknowledged. Sends of one key (or partition) go in order.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "contract/event_decoder.h"
#include "http/transport.h"
#include "kafka/consumer.h"
#include "kafka/publisher.h"
#include "telemetry/health.h"
#include "telemetry/log.h"
#include "telemetry/metrics.h"
#include "telemetry/outage_log.h"
#include "pipeline/txn_records.h"
#include "pipeline/wake_pipe.h"
#include "sfmc/client.h"

namespace sfmc {

enum class Ordering {
  Key,        // same Kafka key (within a partition) in order, other keys in parallel
  Partition,  // strictly one after another per partition
  None,       // no order
};

struct RelayOptions {
  std::string outcome_topic;
  std::string dead_letter_topic;  // empty: none; else gets invalid, rejected and failed events
  // Events consumed and not yet covered by a confirmed commit (so at most
  // this many are delivered again after a crash).
  // Coalescing needs rate x SFMC latency of them, and more: an event behind
  // one of its key waits a round trip, and holds back the commits behind it.
  // 10,000/s at 200 ms keep 4,000-5,000 in the window (measured).
  size_t max_in_flight = 10000;
  Ordering ordering = Ordering::Key;
  // How long a revoke or a stop waits for in-flight events to finish.
  std::chrono::milliseconds drain_timeout{30000};
  // Outcomes, dead letters and input offsets in Kafka transactions (the
  // publisher has a transactional.id): a read_committed reader of the
  // outcome topic sees each event's outcome once, crashes included.
  bool exactly_once = false;
  // How long starting transactions (init) or aborting one may keep retrying
  // before the daemon stops.
  std::chrono::milliseconds transaction_timeout{30000};
  // Delivery status follow-up (empty: off): accepted outcomes carry it in a
  // header, and the follow-up reading that topic takes them as first checks.
  std::string status_followup_topic;
  // A partition whose sends waiting in the client (not yet in a call) make
  // this many calls' worth (at the sends per call its calls recently
  // carried) is read no further until some go: sends that cannot go yet
  // do not fill the window, so a partition of sends that merge is not
  // held back by one of sends that cannot. The connections, by default.
  double max_waiting_calls = 64;
};

// Fenced: another producer with the same transactional.id took over.
// Stuck: a Kafka transaction call never came back (librdkafka 2.15 can wait
// for ever on a coordinator broker a restart replaced, confluentinc/
// librdkafka#5456); only a new process gets past it, and the process must
// end without destructors, which would wait for that call.
enum class RelayExit { Stopped, FatalKafka, FatalConfig, Fenced, Stuck };

// Moments a supervisor (systemd) wants to hear about.
struct RelayHooks {
  std::function<void()> started;   // consuming
  std::function<void()> turned;    // once per loop turn
  std::function<void()> stopping;  // draining before exit
};

class Relay {
 public:
  Relay(kafka::Consumer& consumer, kafka::Publisher& publisher, EventDecoder& decoder, SfmcClient& client,
        HttpTransport& transport, Clock& clock, Metrics& metrics, Health& health, Logger& log, RelayOptions options,
        RelayHooks hooks = {});

  // Runs until `stop` is set or something fatal happens; then finishes the
  // events in flight (up to the drain timeout), commits and leaves the group.
  RelayExit run(const std::atomic<bool>& stop);

  size_t in_flight() const { return works_.size(); }

 private:
  struct Work {
    InboundEvent event;
    Outcome outcome;
    std::optional<SendRequest> request;  // empty: the event is invalid
    std::string order_key;               // empty: unordered
    bool dead_letter_queued = false;
    std::string message_id;  // MobileConnect: the message its status route names
    bool done = false;  // exactly-once: its outcome is ready, waiting for the events before it
  };
  using PartitionKey = kafka::OffsetTracker::PartitionKey;

  size_t window();
  void admit(InboundEvent event);
  void start_send(uint64_t id);
  // The client put event `id` into a call carrying `sends_in_call` sends.
  void sent(uint64_t id, size_t sends_in_call);
  void finished(uint64_t id, SendResult result);
  void publish(uint64_t id);
  bool publish_dead_letter(uint64_t id, Work& work);
  // Whether the event's dead letter is still to be written, and its headers.
  bool dead_letter_due(const Work& work) const;
  static std::vector<std::pair<std::string, std::string>> dead_letter_headers(const Work& work);
  // The outcome's key: the event's, else its id.
  static std::optional<std::string> outcome_key(const Work& work);
  // An accepted outcome asks the status follow-up for its checks (headers).
  void mark_for_followup(Work& work) const;
  void retry_unpublished();
  void delivered(const InputCoordinates& input, int64_t event_timestamp_ms, const std::string& error);
  void turn(std::chrono::milliseconds max_wait, bool consume);
  // Finishes the events of `partitions` (all events when null) in flight,
  // up to the drain timeout (`finish`), and forgets what is left of them.
  void drain(const char* why, const kafka::Consumer::Partitions* partitions = nullptr, bool finish = true);
  std::string order_key(const InboundEvent& event) const;
  // Exactly-once: outcomes go into the transaction in offset order per
  // partition, so a transaction holds exactly the outcomes of the offsets
  // it commits.
  void release(const PartitionKey& partition);
  kafka::Publisher::Queued produce_in_transaction(RecordTopic topic, const InputCoordinates& input, int64_t timestamp_ms,
                                                  const std::optional<std::string>& key, const std::string& value,
                                                  const TxnRecords::Headers& headers);
  kafka::Consumer::CommitResult commit_transaction(const rd_kafka_topic_partition_list_t* positions);
  // Aborts the open transaction, if any; its records stay kept, to be
  // produced again from now on (reproduce_at_). False: the producer cannot
  // go on (fatal_kafka_).
  bool abort_open_transaction();
  // Produces an aborted transaction's records again, but those of
  // `dropping` (partitions no longer ours).
  void reproduce(const kafka::Consumer::Partitions* dropping);
  void transaction_failed(const char* what, const kafka::Publisher::TxnResult& result);
  // Waits up to `wait` for the commit thread; false while it runs, and
  // (with the daemon stopping, stuck_) once it is stuck.
  bool commit_ended(Clock::duration wait);
  // Logs that a transaction call begun at `since` has not returned, and
  // stops the relay (exit 1, without destructors: see RelayExit::Stuck).
  void transaction_stuck(Clock::time_point since);
  void transaction_committed();
  // Commits everything released, waiting for it (a revoke, a stop): true
  // when nothing is left uncommitted.
  bool commit_transaction_now();

  kafka::Consumer& consumer_;
  kafka::Publisher& publisher_;
  EventDecoder& decoder_;
  SfmcClient& client_;
  HttpTransport& transport_;
  Clock& clock_;
  Metrics& metrics_;
  Health& health_;
  Logger& log_;
  RelayOptions options_;
  RelayHooks hooks_;
  WakePipe wake_;  // librdkafka -> transport poll

  std::map<uint64_t, Work> works_;
  std::unordered_map<std::string, std::deque<uint64_t>> key_queues_;  // front: the one being sent
  struct PartitionSends {
    size_t waiting = 0;          // in the client, in no call yet
    // The sends its calls carried lately (0: none went yet; held as 1): down
    // at once to a smaller call's, up by a tenth of the difference a send.
    // A partition of one-off sends is held from the start; one
    // whose sends merge, if an odd send that went alone brought it down,
    // comes back up with its next calls.
    double sends_per_call = 0;
    bool held = false;           // read no further (max_waiting_calls)
  };
  std::map<PartitionKey, PartitionSends> partition_sends_;
  std::deque<uint64_t> unpublished_;                                  // outcome queue was full
  uint64_t next_id_ = 1;
  bool fatal_kafka_ = false;
  OutageLog kafka_outage_;
  // Exactly-once.
  // Per partition, its events in offset order: {offset, work}.
  std::map<PartitionKey, std::deque<std::pair<int64_t, uint64_t>>> unreleased_;
  std::set<PartitionKey> blocked_;  // release waits for producer room
  TxnRecords txn_records_;
  // Idle: no transaction; Open: records going in; Committing: a thread
  // sends the offsets and commits (librdkafka's calls block), while the
  // loop goes on without producing.
  enum class TxnState { Idle, Open, Committing };
  TxnState txn_state_ = TxnState::Idle;
  std::future<kafka::Publisher::TxnResult> commit_;
  std::future<kafka::Publisher::TxnResult> abort_;  // kept: a stuck one's destructor would wait
  Clock::time_point commit_started_{};
  bool fenced_ = false;
  // A commit's steps each give up at transaction_timeout; one still running
  // this much later is stuck.
  static constexpr auto kStuckGrace = std::chrono::seconds(30);
  bool stuck_ = false;
  // After an abort the records wait before going in again (a pause that
  // doubles up to a few seconds); transactions aborting for
  // transaction_timeout with none committed stop the daemon (a record the
  // broker always refuses would abort for ever).
  static constexpr auto kFirstReproducePause = std::chrono::milliseconds(100);
  static constexpr auto kMaxReproducePause = std::chrono::milliseconds(5000);
  std::optional<Clock::time_point> reproduce_at_;  // set: an aborted transaction's records wait
  Clock::duration reproduce_pause_ = kFirstReproducePause;
  std::optional<Clock::time_point> aborting_since_;
  std::atomic<bool> txn_failure_logged_{false};
};

}  // namespace sfmc
