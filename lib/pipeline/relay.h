// The engine: Kafka record -> decode/validate -> call SFMC -> publish outcome
// -> commit. One event at a time in this version; offsets are committed only
// once the event's outcome is acknowledged by the broker.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "contract/event_decoder.h"
#include "kafka/consumer.h"
#include "kafka/publisher.h"
#include "ops/log.h"
#include "sfmc/client.h"

namespace sfmc {

class Relay {
 public:
  Relay(kafka::Consumer& consumer, kafka::Publisher& publisher, EventDecoder& decoder, SfmcClient& client,
        Logger& log);

  // Runs until `stop` is set or an outcome cannot be delivered; then hands
  // over every outcome, commits and leaves the group. Returns false when it
  // stopped because of a fatal error.
  bool run(const std::atomic<bool>& stop);

  // The outcome an event gets (no Kafka involved): public for tests.
  Outcome process(const InboundEvent& event);

 private:
  void publish(const InboundEvent& event, const Outcome& outcome, const std::atomic<bool>& stop);
  void delivered(const InputCoordinates& input, const std::string& error);
  void drain();

  kafka::Consumer& consumer_;
  kafka::Publisher& publisher_;
  EventDecoder& decoder_;
  SfmcClient& client_;
  Logger& log_;
  bool fatal_ = false;
  std::chrono::milliseconds drain_timeout_{30000};
};

}  // namespace sfmc
