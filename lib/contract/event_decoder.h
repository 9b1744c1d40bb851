// Turns a Kafka record's value into a SendRequest, or into the list of every
// problem that stops it from being one: the envelope, the operation's body
// schema, and the SFMC rules a schema cannot state.
#pragma once

#include <array>
#include <memory>
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
  // What kind of problem came first, for metrics: too_large, too_deep,
  // not_json, envelope, body (schema) or rule.
  std::string reason;
};

using Decoded = std::variant<SendRequest, InvalidEvent>;

struct DecoderOptions {
  size_t max_event_bytes = 1024 * 1024;
  // Deeper values are refused before parsing: validation recurses.
  int max_depth = 64;
  // Give Transactional recipients without a messageKey a derived one
  // (core/message_keys.h), so re-sends are idempotent.
  bool derive_message_keys = true;
  // Take Transactional sends apart (SendRequest::mergeable), so the client
  // can merge them into batch calls.
  bool prepare_merging = true;
};

class EventDecoder {
 public:
  explicit EventDecoder(DecoderOptions limits = {});
  Decoded decode(const InboundEvent& event);

 private:
  DecoderOptions limits_;
  SchemaValidator envelope_;
  std::array<std::unique_ptr<SchemaValidator>, 5> bodies_;  // by Operation
};

// The event id used when the event has none: "topic/partition/offset".
std::string default_event_id(const InputCoordinates& input);
// The id of an event without an `id` of its own: the one a dead letter it was
// redriven from carried (dead_letter::kEventId), else default_event_id.
std::string event_identity(const InboundEvent& event);

// Byte offset where nesting first exceeds `max_depth`, if it does (strings
// are skipped, so brackets inside them do not count).
std::optional<size_t> nesting_exceeds(std::string_view json, int max_depth);

// Byte offset of a \uDC00-\uDFFF escape without the high surrogate escape
// before it, if any: RapidJSON decodes those into bytes that are not UTF-8.
std::optional<size_t> unpaired_low_surrogate(std::string_view json);

}  // namespace sfmc
