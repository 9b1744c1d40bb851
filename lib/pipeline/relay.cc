#include "pipeline/relay.h"

#include "core/outcome_json.h"
#include "sfmc/operations.h"

namespace sfmc {

Relay::Relay(kafka::Consumer& consumer, kafka::Publisher& publisher, EventDecoder& decoder, SfmcClient& client,
             Logger& log)
    : consumer_(consumer), publisher_(publisher), decoder_(decoder), client_(client), log_(log) {
  publisher_.on_delivered([this](const InputCoordinates& input, const std::string& error) { delivered(input, error); });
  consumer_.on_revoke([this] { drain(); });
}

Outcome Relay::process(const InboundEvent& event) {
  Outcome outcome;
  outcome.input = event.input;
  Decoded decoded = decoder_.decode(event);
  if (auto* invalid = std::get_if<InvalidEvent>(&decoded)) {
    outcome.id = invalid->id;
    outcome.operation = invalid->operation;
    outcome.account = invalid->account;
    outcome.status = OutcomeStatus::Invalid;
    outcome.errors = std::move(invalid->errors);
    return outcome;
  }
  const auto& request = std::get<SendRequest>(decoded);
  outcome.id = request.id;
  outcome.operation = std::string(info(request.operation).name);
  outcome.account = request.account;
  if (!client_.has_account(request.account)) {
    outcome.status = OutcomeStatus::Invalid;
    outcome.errors.push_back({"account '" + request.account + "' is not configured", "/account", std::nullopt, {}});
    return outcome;
  }
  client_.send(request, outcome);
  return outcome;
}

void Relay::publish(const InboundEvent& event, const Outcome& outcome, const std::atomic<bool>& stop) {
  const std::string value = to_json(outcome);
  const std::string& key = event.key ? *event.key : outcome.id;
  for (;;) {
    std::string error;
    auto queued = publisher_.publish(error, key, value, event.input);
    if (queued == kafka::Publisher::Queued::Ok) return;
    // A full queue empties as the broker acknowledges; anything else means
    // the outcome cannot be written, so stop before committing past it.
    if (queued == kafka::Publisher::Queued::Failed || stop) {
      if (error.empty()) error = "stopping while the outcome queue is full";
      log_.error("cannot publish outcome; stopping without committing it",
                 {{"event", outcome.id}, {"error", error}});
      fatal_ = true;
      return;
    }
    publisher_.poll(std::chrono::milliseconds(100));
  }
}

void Relay::delivered(const InputCoordinates& input, const std::string& error) {
  if (!error.empty()) {
    // The offset stays pending, so nothing past this event is committed; the
    // event is consumed again after the restart.
    log_.error("outcome not acknowledged by Kafka; stopping",
               {{"topic", input.topic}, {"partition", std::to_string(input.partition)},
                {"offset", std::to_string(input.offset)}, {"error", error}});
    fatal_ = true;
    return;
  }
  consumer_.offsets().finish(input.topic, input.partition, input.offset);
}

void Relay::drain() {
  int left = publisher_.flush(drain_timeout_);
  if (left > 0) log_.warn("outcomes still unacknowledged after the drain timeout", {{"count", std::to_string(left)}});
  consumer_.store_finished_offsets();
}

bool Relay::run(const std::atomic<bool>& stop) {
  while (!stop && !fatal_) {
    publisher_.poll(std::chrono::milliseconds(0));
    consumer_.store_finished_offsets();
    auto event = consumer_.poll(std::chrono::milliseconds(100));
    if (!event) continue;
    Outcome outcome = process(*event);
    if (outcome.status != OutcomeStatus::Accepted)
      log_.info("event finished", {{"event", outcome.id}, {"status", to_string(outcome.status)},
                                   {"error", outcome.errors.empty() ? "" : outcome.errors.front().message}});
    publish(*event, outcome, stop);
  }
  log_.info(fatal_ ? "stopping after a fatal error" : "stopping: finishing in-flight outcomes");
  drain();
  size_t unfinished = consumer_.offsets().in_flight();
  consumer_.commit_now();
  consumer_.close();
  log_.info("stopped", {{"unfinished", std::to_string(unfinished)}});
  return !fatal_;
}

}  // namespace sfmc
