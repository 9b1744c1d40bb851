// Turns a Kafka record's value into a SendRequest, or into the list of every
// problem that stops it from being one.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "contract/schema_validator.h"
#include "core/event.h"

namespace sfmc {

struct InvalidEvent {
  std::string id;
  std::string operation;  // as written in the event, when readable
  std::string account;
  std::vector<ErrorDetail> errors;
};

using Decoded = std::variant<SendRequest, InvalidEvent>;

class EventDecoder {
 public:
  EventDecoder();
  Decoded decode(const InboundEvent& event);

 private:
  SchemaValidator envelope_;
};

// The event id used when the event has none: "topic/partition/offset".
std::string default_event_id(const InputCoordinates& input);

}  // namespace sfmc
