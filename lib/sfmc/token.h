// OAuth2 client-credentials tokens: the request and the reading of SFMC's
// answer (the client keeps one token per account and refreshes it ahead).
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "core/clock.h"
#include "http/transport.h"
#include "sfmc/account.h"

namespace sfmc {

struct AccessToken {
  std::string value;
  std::string rest_base_url;     // normalised rest_instance_url
  Clock::time_point refresh_at;  // fetch a new one from here on ...
  Clock::time_point expires_at;  // ... and stop using this one here
};

struct TokenError {
  std::string message;
  bool retryable = false;  // false: the credentials or scope are wrong
  int http_status = 0;
  std::optional<int> retry_after_s;
  bool certificate_refused = false;  // the endpoint's TLS certificate failed verification
};

HttpRequest token_request(const AccountConfig& account);
std::variant<AccessToken, TokenError> read_token_response(const HttpResponse& response, const AccountConfig& account,
                                                          Clock::time_point now);

}  // namespace sfmc
