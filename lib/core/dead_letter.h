// The headers of a dead letter (an invalid, rejected or failed event, written as it
// came to kafka.dead_letter_topic) and of an event redriven from one
// (`sfmc-relay redrive`). The names are part of the product's interface.
#pragma once

#include <string_view>

namespace sfmc::dead_letter {

// Written beside the event's own headers when it is dead-lettered.
inline constexpr std::string_view kStatus = "sfmc-relay-status";           // invalid | rejected | failed
inline constexpr std::string_view kError = "sfmc-relay-error";             // the first error's message
inline constexpr std::string_view kErrorCode = "sfmc-relay-error-code";    // its SFMC error code, when known
inline constexpr std::string_view kHttpStatus = "sfmc-relay-http-status";  // SFMC's last answer, when there was one
inline constexpr std::string_view kInput = "sfmc-relay-input";             // where it was read: topic/partition/offset
// The event's id. It stays on a redriven event: one without an `id` of its
// own keeps the id (and so the derived messageKeys) it had.
inline constexpr std::string_view kEventId = "sfmc-relay-event-id";

// Added by a redrive: the dead letter it came from (topic/partition/offset)
// and that letter's status. A redriven `failed` event may have reached SFMC
// before, so a 109110 (DuplicateMessageKey) on any of its keys means its
// earlier send went through.
inline constexpr std::string_view kRedriveOf = "sfmc-relay-redrive-of";
inline constexpr std::string_view kRedriveStatus = "sfmc-relay-redrive-status";

// The headers a dead letter adds (the event id aside), which a redrive
// removes and a second dead-lettering replaces.
inline bool is_failure_header(std::string_view name) {
  return name == kStatus || name == kError || name == kErrorCode || name == kHttpStatus || name == kInput;
}

}  // namespace sfmc::dead_letter
