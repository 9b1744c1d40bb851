// SFMC's status routes (sfmc-api.md §4), read: what a lookup of a
// Transactional messageKey or of a MobileConnect tokenId says, as delivery
// states with SFMC's codes, and its timestamps in UTC.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/delivery.h"

namespace sfmc {

// SFMC's status timestamps are US Central Standard Time (UTC-6, all year:
// no daylight saving) without a zone, e.g. "2026-11-30T11:04:05.1234567".
// Returns the same instant in UTC, RFC 3339 with milliseconds
// ("2026-11-30T17:04:05.123Z"); nullopt when `cst` is not such a time.
std::optional<std::string> central_to_utc(std::string_view cst);

// One row of what a lookup found: the fields of a DeliveryRecord that come
// from SFMC (state, terminal-ness, codes, words, time, mobile number).
struct StatusReading {
  DeliveryState state = DeliveryState::Unknown;
  bool terminal = false;  // is_terminal(state)
  std::string mobile_number;
  std::string event_category_type;
  std::string status_code;
  std::string status_message;
  std::string standard_status_code;
  std::string description;
  std::string send_status;
  std::string sfmc_time;  // UTC, RFC 3339; empty when absent or unreadable
};

// The answer to a status lookup: rows when SFMC answered 200 with a
// readable body; else `error` says what came back (HTTP status and SFMC's
// message) and `retry` whether asking again later may help (429, 5xx,
// timeouts: yes; 400/404: no).
struct StatusAnswer {
  std::vector<StatusReading> rows;
  std::string error;
  bool retry = false;
  bool not_found = false;  // SFMC does not know the messageKey or tokenId (404, or MobileConnect's 400 sentence)
};

// GET /messaging/v1/{sms,email}/messages/{messageKey}: one row.
StatusAnswer read_message_status(int http_status, std::string_view body);
// GET /sms/v1/{messageContact,messageList}/{id}/deliveries/{tokenId}: one
// row per mobile number in `tracking`, at its highest standardStatusCode
// (rows arrive out of order); none listed yet: one row without a number.
StatusAnswer read_delivery_status(int http_status, std::string_view body);

}  // namespace sfmc
