// Delivery status follow-up (the `status` configuration): the records it
// keeps in Kafka. A StatusCheck is a pending lookup: the first ones of a send
// are its outcome record (marked by a header), later ones records of the
// follow-up topic. A DeliveryRecord is what one lookup found, on the status
// topic.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sfmc {

// Where a message is, in the relay's words (see the README's table of
// SFMC's states and codes behind each).
enum class DeliveryState { Queued, Sent, Delivered, Undeliverable, NotSent, Expired, Unknown };
std::string_view to_string(DeliveryState state);
// A state after which SFMC reports nothing new.
bool is_terminal(DeliveryState state);

// What SFMC's words mean, in one table for every source of delivery news
// (the status routes and ENS): a MobileConnect standardStatusCode ...
DeliveryState state_for_sms_status_code(int code);
// ... and a Transactional event type, as the status routes write it
// ("TransactionalSendEvents.SMSSent") or ENS ("...SmsDelivered", "...EmailBounced").
DeliveryState state_for_event_type(std::string_view type);

// One pending status lookup: for a Transactional recipient (its messageKey)
// or a MobileConnect send (its tokenId, with the message id its route needs).
struct StatusCheck {
  std::string id;         // the event's id
  std::string operation;  // the event's operation name, e.g. "transactional.sms.send"
  std::string account;
  std::string message_key;  // Transactional; else empty
  std::string token_id;     // MobileConnect; else empty
  std::string message_id;   // MobileConnect: the {id} of its route
  int64_t accepted_ms = 0;  // when SFMC accepted the send (Unix ms, UTC)
  int64_t due_ms = 0;       // when to look (Unix ms, UTC)
  int step = 0;             // index in the schedule
};

// The headers of an accepted outcome the relay produced with the follow-up
// on: the follow-up topic (whose reader checks it), and for MobileConnect the
// message id its status route needs.
inline constexpr std::string_view kFollowUpHeader = "sfmc-relay-followup";
inline constexpr std::string_view kMessageIdHeader = "sfmc-relay-message-id";

// The checks an outcome record (schemas/outcome.schema.json) asks for at
// step 0: one per accepted messageKey, or one for its tokenId (with
// `message_id`); none when it was not accepted. nullopt, with `error` set,
// when `text` is not an outcome.
std::optional<std::vector<StatusCheck>> first_checks(std::string_view text, std::string_view message_id,
                                                     int64_t accepted_ms, int64_t due_ms, std::string& error);

// JSON on the follow-up topic (schemas/status-check.schema.json).
std::string to_json(const StatusCheck& check);
// nullopt, with `error` set, when `text` is not a status check.
std::optional<StatusCheck> parse_status_check(std::string_view text, std::string& error);

// Where delivery news came from: the follow-up's lookups of SFMC's status
// routes, or SFMC's Event Notification Service pushing it.
enum class DeliverySource { Status, Ens };

// What one lookup found for one message (one mobile number of a
// MobileConnect send), or what one ENS event said of one message.
struct DeliveryRecord {
  DeliverySource source = DeliverySource::Status;
  // Status records: the event and the lookup. (ENS knows neither.)
  std::string id;
  std::string operation;
  std::string account;
  std::string message_key;    // Transactional
  std::string token_id;       // MobileConnect
  std::string mobile_number;  // MobileConnect, per tracking row; empty when SFMC lists none yet
  DeliveryState state = DeliveryState::Unknown;
  bool final = false;  // no later record follows for it
  int step = 0;
  // SFMC's own words, as it gave them (empty when absent).
  std::string event_category_type;   // Transactional: e.g. "TransactionalSendEvents.SMSSent"
  std::string status_code;           // Transactional info.statusCode; MobileConnect tracking statusCode
  std::string status_message;        // Transactional info.statusMessage; MobileConnect tracking message
  std::string standard_status_code;  // MobileConnect, e.g. "4000"
  std::string description;           // MobileConnect, e.g. "Delivered"
  std::string send_status;           // MobileConnect delivery "status", e.g. "Finished"
  std::string sfmc_time;             // SFMC's timestamp in UTC, RFC 3339 ("...Z"); empty when none
  int64_t checked_ms = 0;            // when the relay looked, or received the ENS event (Unix ms, UTC)
  std::string note;                  // why checks stopped without a terminal state, or what went wrong
  // ENS records (status records leave them empty).
  std::string channel{};         // "sms" or "email"
  std::string mid{};             // the business unit SFMC names
  std::string definition_key{};  // the send definition
  std::string composite_id{};
};

// JSON on the status topic (schemas/delivery.schema.json).
std::string to_json(const DeliveryRecord& record);

}  // namespace sfmc
