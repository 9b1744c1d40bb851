// OAuth2 client-credentials tokens, one per account, reused until shortly
// before they expire (SFMC throttles clients that ask too often).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <variant>

#include "core/clock.h"
#include "core/event.h"
#include "http/transport.h"
#include "sfmc/account.h"

namespace sfmc {

struct AccessToken {
  std::string value;
  std::string rest_base_url;  // normalised rest_instance_url
  Clock::time_point refresh_at;
};

struct TokenError {
  std::string message;
  bool retryable = false;  // false: a configuration problem (invalid_client, ...)
  int http_status = 0;
};

class TokenCache {
 public:
  TokenCache(HttpTransport& transport, Clock& clock) : transport_(transport), clock_(clock) {}

  std::variant<AccessToken, TokenError> get(const AccountConfig& account);
  // Forget the account's token (SFMC answered 401 with it).
  void invalidate(const std::string& account) { tokens_.erase(account); }

 private:
  std::variant<AccessToken, TokenError> fetch(const AccountConfig& account);
  HttpTransport& transport_;
  Clock& clock_;
  std::map<std::string, AccessToken> tokens_;
};

}  // namespace sfmc
