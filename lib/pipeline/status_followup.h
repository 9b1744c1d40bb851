// Delivery status follow-up: after SFMC accepted a send, where did the
// message go? Kafka is the memory. An accepted outcome the send path
// produced with a follow-up header asks for a first check of each accepted
// recipient (messageKey) or MobileConnect send (tokenId); this engine, a
// consumer group member of its own on a thread of its own, reads the
// outcome topic and the follow-up topic, holds each check until it is due,
// looks it up on SFMC's status route, publishes what it found to the status
// topic and, unless that was the last look, the next check (the schedule's
// next step) to the follow-up topic, before the record's offset is
// committed. A crash consumes the uncommitted records again: no check is
// lost, and a delivery record may come twice. The sends write nothing more
// than their outcomes.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/delivery.h"
#include "http/transport.h"
#include "kafka/consumer.h"
#include "kafka/publisher.h"
#include "pipeline/wake_pipe.h"
#include "sfmc/status_client.h"
#include "telemetry/log.h"
#include "telemetry/metrics.h"

namespace sfmc {

struct StatusOptions {
  std::string topic;           // delivery records; empty: no follow-up
  std::string followup_topic;  // pending checks after the first
  std::string outcome_topic;   // the sends' outcomes: the first checks
  // When to look, after SFMC accepted the send.
  std::vector<std::chrono::milliseconds> schedule{std::chrono::seconds(30), std::chrono::minutes(2),
                                                  std::chrono::minutes(10), std::chrono::hours(1)};
  // SFMC answers lookups for about three days after the send.
  std::chrono::milliseconds lookup_window{std::chrono::hours(72)};
  // A lookup SFMC did not answer (429, 5xx, no connection) goes again after this.
  std::chrono::milliseconds retry_delay{std::chrono::seconds(30)};
  // Checks held in memory for their time; past it the follow-up topic's
  // records wait in Kafka (the consumer pauses when its buffer stays full).
  size_t max_held = 10000;
};

class StatusFollowUp {
 public:
  StatusFollowUp(kafka::Consumer& consumer, kafka::Publisher& publisher, StatusClient& client,
                 HttpTransport& transport, Metrics& metrics, Logger& log, StatusOptions options);

  // Until `stop`; then what was looked up is published and committed.
  // False: Kafka refused a record (logged), and the follow-up stopped.
  bool run(const std::atomic<bool>& stop);

 private:
  struct Held {
    StatusCheck check;
    InputCoordinates input;
  };

  void turn(std::chrono::milliseconds max_wait);
  void admit(InboundEvent event);
  void look_up_due(int64_t now_ms);
  void answered(uint64_t id, StatusAnswer answer);
  // Publishes `value` for the check's input record; its offset is done
  // when every record published for it is acknowledged.
  bool publish(const std::string& topic, const std::string& key, const std::string& value,
               const InputCoordinates& input, bool first);
  void drop(const kafka::Consumer::Partitions& partitions);

  // Due checks handed to the client a few at a time: the rest stay in
  // due_, where their lateness shows.
  static constexpr size_t kQueued = 16;

  kafka::Consumer& consumer_;
  kafka::Publisher& publisher_;
  StatusClient& client_;
  HttpTransport& transport_;
  Metrics& metrics_;
  Logger& log_;
  StatusOptions options_;
  WakePipe wake_;
  std::unordered_map<uint64_t, Held> held_;
  std::multimap<int64_t, uint64_t> due_;  // due_ms -> held
  uint64_t next_id_ = 1;
  bool failed_ = false;  // Kafka refused a record: stop, leaving its offset uncommitted
};

}  // namespace sfmc
