// Sends one SendRequest to SFMC: token, HTTP call, classification, bounded
// retries. Fills the outcome's SFMC fields.
#pragma once

#include <chrono>
#include <map>
#include <random>
#include <string>

#include "core/clock.h"
#include "core/event.h"
#include "http/transport.h"
#include "sfmc/account.h"
#include "sfmc/token_cache.h"

namespace sfmc {

struct RetryPolicy {
  int max_attempts = 3;
  std::chrono::milliseconds base_backoff{250};
  std::chrono::milliseconds max_backoff{5000};
};

class SfmcClient {
 public:
  SfmcClient(std::map<std::string, AccountConfig> accounts, HttpTransport& transport, Clock& clock,
             RetryPolicy retry, uint64_t jitter_seed);

  bool has_account(const std::string& name) const { return accounts_.count(name) != 0; }

  // Always ends with a final status in `outcome` (never Invalid).
  void send(const SendRequest& request, Outcome& outcome);

  // Delay before attempt `attempt + 1`: Retry-After when SFMC gave one,
  // otherwise exponential backoff with full jitter, capped.
  std::chrono::milliseconds backoff(int attempt, std::optional<int> retry_after_s);

 private:
  std::map<std::string, AccountConfig> accounts_;
  HttpTransport& transport_;
  Clock& clock_;
  RetryPolicy retry_;
  TokenCache tokens_;
  std::mt19937_64 jitter_;
};

}  // namespace sfmc
