// The engine: Kafka record -> decode/validate -> call SFMC -> publish outcome
// -> commit, with many events in flight on one thread. Events finish out of
// order; a partition's offset is committed only over events whose outcome
// Kafka acknowledged. Sends of one key (or partition) go in order.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "contract/event_decoder.h"
#include "http/transport.h"
#include "kafka/consumer.h"
#include "kafka/publisher.h"
#include "telemetry/health.h"
#include "telemetry/log.h"
#include "telemetry/metrics.h"
#include "telemetry/outage_log.h"
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
  std::string dead_letter_topic;  // empty: none; else gets invalid and failed events
  // Events consumed and not yet covered by a confirmed commit (so at most
  // this many are delivered again after a crash).
  // Coalescing needs rate x SFMC latency of them, and more: an event behind
  // one of its key waits a round trip, and holds back the commits behind it.
  // 10,000/s at 200 ms keep 4,000-5,000 in the window (measured).
  size_t max_in_flight = 10000;
  Ordering ordering = Ordering::Key;
  // How long a revoke or a stop waits for in-flight events to finish.
  std::chrono::milliseconds drain_timeout{30000};
};

enum class RelayExit { Stopped, FatalKafka, FatalConfig };

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
  };

  size_t window();
  void admit(InboundEvent event);
  void start_send(uint64_t id);
  void finished(uint64_t id, SendResult result);
  void publish(uint64_t id);
  bool publish_dead_letter(uint64_t id, Work& work);
  void retry_unpublished();
  void delivered(const InputCoordinates& input, int64_t event_timestamp_ms, const std::string& error);
  void turn(std::chrono::milliseconds max_wait, bool consume);
  // Finishes the events of `partitions` (all events when null) in flight,
  // up to the drain timeout (`finish`), and forgets what is left of them.
  void drain(const char* why, const kafka::Consumer::Partitions* partitions = nullptr, bool finish = true);
  std::string order_key(const InboundEvent& event) const;

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
  std::deque<uint64_t> unpublished_;                                  // outcome queue was full
  uint64_t next_id_ = 1;
  bool fatal_kafka_ = false;
  OutageLog kafka_outage_;
};

}  // namespace sfmc
