// The one table of what SFMC's delivery words mean (README, "The delivery
// record"): MobileConnect's standard status codes and Transactional event
// types, whichever source told them (the status routes or ENS).
#include <cctype>
#include <string>

#include "core/delivery.h"

namespace sfmc {

// SFMC's "SMS Status Codes": the x5xx codes of each stage are failures at
// that stage, the others progress. Codes SFMC adds later fall in with
// their range.
DeliveryState state_for_sms_status_code(int code) {
  switch (code) {
    case 3400: return DeliveryState::Unknown;  // "Unknown error"
    case 4501: return DeliveryState::Expired;  // the carrier gave up retrying
    case 4503: return DeliveryState::NotSent;  // rejected by the carrier (loop, spam)
    default: break;
  }
  // 1000 queued to the send service; 1500 queue failure, 1501 validation error.
  if (code >= 1000 && code <= 1499) return DeliveryState::Queued;
  if (code >= 1500 && code <= 1999) return DeliveryState::NotSent;
  // 2000 delivered to the aggregator; 2500-2502 failed to it (2502: an
  // invalid number), 2600/2601 throttled or a socket error, retries spent.
  if (code >= 2000 && code <= 2499) return DeliveryState::Sent;
  if (code >= 2500 && code <= 2999) return DeliveryState::NotSent;
  // 3000-3002 en route to, sent to, accepted by the carrier.
  if (code >= 3000 && code <= 3399) return DeliveryState::Sent;
  // 4000 delivered to the handset; 4500 undeliverable, 4502 deleted,
  // 4504 unknown subscriber, 4505 invalid number.
  if (code >= 4000 && code <= 4499) return DeliveryState::Delivered;
  if (code >= 4500 && code <= 4999) return DeliveryState::Undeliverable;
  return DeliveryState::Unknown;
}

// "TransactionalSendEvents.SMSSent" (status route), ".SmsDelivered" (ENS):
// the channel's prefix, then what happened.
DeliveryState state_for_event_type(std::string_view type) {
  if (const auto dot = type.rfind('.'); dot != std::string_view::npos) type.remove_prefix(dot + 1);
  std::string what;
  for (char c : type) what += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const size_t channel = what.starts_with("sms") ? 3 : what.starts_with("email") ? 5 : 0;
  if (channel == 0) return DeliveryState::Unknown;
  what.erase(0, channel);
  if (what == "queued") return DeliveryState::Queued;
  if (what == "sent") return DeliveryState::Sent;
  if (what == "transient") return DeliveryState::Sent;  // a carrier's intermediate status
  if (what == "delivered") return DeliveryState::Delivered;
  if (what == "bounced") return DeliveryState::Undeliverable;
  if (what == "notsent") return DeliveryState::NotSent;
  return DeliveryState::Unknown;
}

}  // namespace sfmc
