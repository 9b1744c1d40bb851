// SFMC's Event Notification Service (ENS), as a receiver reads it: the
// signature on each POST, the verification POST, and the body, a JSON
// array of events, as what delivery records need.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/delivery.h"

namespace sfmc {

// x-sfmc-ens-signature: base64 of HMAC-SHA256 over the raw body, keyed with
// the callback's signature key (base64 as SFMC shows it, decoded to bytes).
// Several keys at once, so that a new callback's key can be added before
// the old one is retired.
class EnsSignature {
 public:
  // Throws std::invalid_argument naming the key's position (never its
  // value) when a key is empty or not base64.
  explicit EnsSignature(const std::vector<std::string>& base64_keys);

  // Whether `signature` is one of the keys' signature of `body`. Every key
  // is tried, and compared in constant time.
  bool verify(std::string_view body, std::string_view signature) const;

  // The signature ENS would send (the simulator's, and the tests').
  static std::string sign(std::string_view base64_key, std::string_view body);

 private:
  std::vector<std::string> keys_;  // decoded
};

// One ENS event, as much of it as a delivery record carries.
struct EnsEvent {
  std::string event_type;  // eventCategoryType, e.g. TransactionalSendEvents.SmsDelivered
  DeliveryState state = DeliveryState::Unknown;
  std::string channel;         // "sms" or "email", from the event type
  std::string message_key;     // info.messageKey
  std::string to;              // info.to
  std::string contact_key;     // info.subscriberKey or info.contactKey
  std::string status_code;     // info.statusCode, as text
  std::string status_message;  // info.statusMessage, or info.reason
  std::string definition_key;
  std::string composite_id;
  std::string mid;           // the business unit
  int64_t timestamp_ms = 0;  // timestampUTC (Unix ms)
};

struct EnsBatch {
  std::vector<EnsEvent> events;
  // Events that are not about a message of ours (no messageKey, or another
  // family such as EngagementEvents): counted, not recorded.
  size_t skipped = 0;
  std::string error;  // why the body is not a batch of events (empty when it is)
};

// A notification body: a JSON array of event objects.
EnsBatch read_ens_batch(std::string_view body);

// The delivery record of one event, received at `received_ms` (Unix ms).
// Final when its state is terminal: ENS reports delivery after "sent".
DeliveryRecord delivery_record(const EnsEvent& event, int64_t received_ms);

// The POST ENS makes when a callback is created: {"callbackId", "verificationKey"}.
struct EnsVerification {
  std::string callback_id;
  std::string verification_key;
};
std::optional<EnsVerification> read_ens_verification(std::string_view body);

}  // namespace sfmc
