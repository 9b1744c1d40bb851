// Looks up delivery status on SFMC's status routes, for the follow-up (the
// `status` configuration), on the caller's thread. Apart from the send
// client on purpose: its own transport (so its connections are never the
// sends'), its own rate limit per account, since SFMC says these routes
// are "for infrequent verification", and a concurrency limiter per account
// of its own (the routes have their own throttle), up to max_in_flight. It
// uses the send client's tokens, through a TokenShelf (the status routes need the scopes sms_read /
// email_read).
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/delivery.h"
#include "http/transport.h"
#include "sfmc/account.h"
#include "sfmc/concurrency_limiter.h"
#include "sfmc/rate_limiter.h"
#include "telemetry/metrics.h"
#include "sfmc/status.h"
#include "sfmc/token_shelf.h"

namespace sfmc {

struct StatusClientOptions {
  double max_requests_per_second = 5;  // per account; 0: unlimited
  size_t max_in_flight = 2;            // lookups at once, all accounts
};

class StatusClient {
 public:
  using Done = std::function<void(StatusAnswer)>;

  // `metrics` (optional) gets each account's limiter gauges.
  StatusClient(const std::map<std::string, AccountConfig>& accounts, HttpTransport& transport, Clock& clock,
               TokenShelf& tokens, StatusClientOptions options, Metrics* metrics = nullptr);

  bool has_account(const std::string& name) const { return accounts_.count(name) != 0; }
  // Queues a lookup; `done` runs from a later poll() or the transport's
  // poll(). An unknown account answers at once (not retryable).
  void lookup(const StatusCheck& check, Done done);
  // Starts what tokens, the rate limits and max_in_flight allow; asks the
  // shelf for a token where one is missing.
  void poll();
  // When poll() next has something to do (nullopt: only transport events).
  std::optional<Clock::time_point> next_wakeup() const { return wake_at_; }
  size_t waiting() const;

  // The route of a check, without the host: "/messaging/v1/sms/messages/KEY"
  // or "/sms/v1/messageContact/ID/deliveries/TOKEN".
  static std::string path(const StatusCheck& check);

 private:
  struct Lookup {
    StatusCheck check;
    Done done;
    bool retried_after_401 = false;
  };
  struct Account {
    Account(double rate, ConcurrencyOptions concurrency, Clock& clock) : bucket(rate, 1), limiter(concurrency, clock) {}
    TokenBucket bucket;
    ConcurrencyLimiter limiter;
    std::optional<Metrics::ConcurrencyGauges> gauges;
    std::string refused;  // the token SFMC last answered 401 to: wait for another
    std::deque<Lookup> waiting;
  };

  void pump(const std::string& name, Account& account, Clock::time_point now);
  void start(const std::string& name, Account& account, const AccessToken& token, Lookup lookup);
  static void show(Account& account);

  std::map<std::string, Account> accounts_;
  HttpTransport& transport_;
  Clock& clock_;
  TokenShelf& tokens_;
  StatusClientOptions options_;
  size_t in_flight_ = 0;
  std::optional<Clock::time_point> wake_at_;
};

}  // namespace sfmc
