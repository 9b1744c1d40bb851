// What an SFMC answer means for the event that caused it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "http/transport.h"

namespace sfmc {

enum class Verdict {
  Accepted,           // every recipient queued
  PartiallyAccepted,  // 202 with some recipients refused
  Rejected,           // SFMC refused; do not retry
  Unauthorized,       // 401: refresh the token, retry once
  Retryable,          // 429, 5xx, network: retry later
  Failed,             // SFMC's certificate was refused: nothing was sent, and a retry would meet the same
};

struct Classified {
  Verdict verdict = Verdict::Retryable;
  int http_status = 0;
  std::string request_id;
  std::vector<std::string> message_keys;  // accepted keys
  std::string token_id;
  std::vector<ErrorDetail> errors;
  std::optional<int> retry_after_s;  // from the header or the body's retryAfter
  bool throttled = false;            // 429: the whole account should wait
  bool blocked = false;              // 429 with 50200: too many concurrent requests
};

// A per-recipient 109110 (DuplicateMessageKey) means "already accepted" when
// an earlier attempt of this very request may have reached SFMC (`is_retry`),
// or when the key is one derived for the event that sent it (`own_key`, see
// core/message_keys.h): then only a delivery of this same event, before a
// crash or rebalance, can have used it.
using OwnKey = std::function<bool(std::string_view message_key)>;
Classified classify(const HttpResponse& response, bool is_retry, const OwnKey& own_key = {});

inline constexpr int64_t kResponsesHaveErrors = 109001;
inline constexpr int64_t kDuplicateMessageKey = 109110;
inline constexpr int64_t kTemporarilyBlocked = 50200;

}  // namespace sfmc
