// Sends SendRequests to SFMC, many at once on the caller's thread: one token
// per account (fetched once, refreshed ahead, shared by every send), a
// concurrency limit learnt from SFMC's answers, a rate limit and a cool-down
// per account, response classification, and retries on timers with backoff,
// bounded in attempts and in total time.
//
// Coalescing: Transactional sends that wait (for room under the account's
// concurrency limit, a token, the rate limit or a cool-down) are merged
// with the waiting sends of the same account, channel and request-level
// fields into one call of the channel's batch route; SFMC's per-recipient
// answers go back to each send by messageKey. A send that has been tried once keeps its call (a retry
// repeats the same request), so nothing joins a send that is retrying.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/event.h"
#include "http/transport.h"
#include "telemetry/log.h"
#include "telemetry/metrics.h"
#include "telemetry/outage_log.h"
#include "sfmc/account.h"
#include "sfmc/concurrency_limiter.h"
#include "sfmc/rate_limiter.h"
#include "sfmc/token.h"
#include "sfmc/token_shelf.h"

namespace sfmc {

struct RetryPolicy {
  int max_attempts = 5;
  std::chrono::milliseconds base_backoff{500};
  std::chrono::milliseconds max_backoff{30000};
  // No retry is scheduled later than this after the first attempt.
  std::chrono::milliseconds max_total{120000};
  // 50200 that persists at a concurrency limit of 1 (or any 50200 with a
  // pinned limit) pauses the whole account this long.
  std::chrono::milliseconds blocked_cooldown{10000};
  // Otherwise 429 "temporarily blocked" (50200, no Retry-After) says too
  // many calls are in flight: the account's concurrency limit is cut and
  // the call goes again after about this long (jittered down to half), a
  // retry that costs no attempt (SFMC did nothing with it).
  std::chrono::milliseconds blocked_retry{50};
};

struct CoalesceOptions {
  bool enabled = true;
  size_t max_recipients = 500;  // per call; SFMC documents 2000 for email, nothing for SMS
  size_t max_body_bytes = 4 * 1024 * 1024;
  // How long a send may wait for others to merge with when a connection is
  // free; 0: it goes at once, and merges only with what waits anyway.
  std::chrono::milliseconds max_wait{0};
};

// What SFMC made of one send, after retries.
struct SendResult {
  OutcomeStatus status = OutcomeStatus::Failed;  // never Invalid
  int http_status = 0;
  std::string request_id;
  std::vector<std::string> message_keys;
  std::string token_id;
  std::vector<ErrorDetail> errors;
  int attempts = 0;  // HTTP calls made for this send
};

class SfmcClient {
 public:
  using Done = std::function<void(SendResult)>;

  // `log` hears of token endpoint outages (when they start, while they
  // last, when they end), of a REST endpoint whose certificate is refused,
  // and of large moves of a concurrency limit.
  // `concurrency.max` is the transport's connections: no more calls than
  // that are in flight, all accounts together; an account's `concurrency`
  // pins its limit.
  SfmcClient(const std::map<std::string, AccountConfig>& accounts, HttpTransport& transport, Clock& clock,
             Metrics& metrics, Logger& log, RetryPolicy retry, uint64_t jitter_seed, CoalesceOptions coalesce = {},
             ConcurrencyOptions concurrency = {});

  bool has_account(const std::string& name) const { return accounts_.count(name) != 0; }
  // Puts every token this client gets on `shelf`, and fetches one when the
  // shelf's other side asks (see token_shelf.h).
  void share_tokens(TokenShelf& shelf) { shelf_ = &shelf; }
  // Hears of each send when its call first goes (its tag, and how many
  // sends the call carries), or when it fails without a call (1): until
  // then it waits in the client.
  using Dispatched = std::function<void(uint64_t tag, size_t sends_in_call)>;
  void on_dispatch(Dispatched dispatched) { dispatched_ = std::move(dispatched); }

  // Queues the send; `done` runs from a later poll() or from the transport's
  // poll(), on the caller's thread. A send that can merge goes at the next
  // poll() (so the sends queued before it can join it), any other at once.
  void send(SendRequest request, Done done);
  // Asks every account for its token now: credentials are checked at start
  // and the first sends need not wait.
  void warm_up();
  // Starts what timers, rate limits and cool-downs now allow.
  void poll();
  // When poll() next has something to do (nullopt: only transport events).
  std::optional<Clock::time_point> next_wakeup();

  size_t pending() const;
  bool cooling_down(const std::string& account);
  // The account's concurrency limiter (its limit, calls in flight, baseline).
  const ConcurrencyLimiter& concurrency(const std::string& account) const { return accounts_.at(account).limiter; }
  // Set when SFMC refused an account's credentials: a configuration error
  // that retrying cannot fix; the sends of that account stay pending.
  const std::optional<std::string>& fatal_error() const { return fatal_; }
  int token_requests() const { return token_requests_; }
  // Every account holds a usable token.
  bool tokens_ready();

  // Delay before retry number `attempt` (1-based): Retry-After when SFMC gave
  // one, else exponential backoff with jitter in [ceiling/2, ceiling].
  std::chrono::milliseconds backoff(int attempt, std::optional<int> retry_after_s);

 private:
  struct Member {
    SendRequest request;
    Done done;
  };
  // One HTTP request: one send, or several merged.
  struct Call {
    std::vector<Member> members;
    Operation route;
    std::string path_parameter;
    std::string body;
    std::string group;  // fresh and mergeable: the key of its Account::groups entry
    size_t recipients = 0;
    int failures = 0;  // retryable failures so far (a 50200 below the minimum limit is none)
    bool queued = false;  // waits in its account's `ready` (a full call may go out of turn)
    bool gathered = false;  // in flight, on its first try, from a group: it could have taken more recipients
    bool refreshed_after_401 = false;
    bool may_have_reached_sfmc = false;  // by an earlier attempt: then 109110 means "sent before"
    Clock::time_point queued_at{};
    Clock::time_point first_call{};
    ConcurrencyLimiter::Ticket ticket;  // of the attempt in flight
    SendResult result;
  };
  // Fresh mergeable calls that can share a request, oldest first.
  struct Group {
    std::deque<uint64_t> calls;
    size_t recipients = 0;
  };
  struct Account {
    Account(const AccountConfig& c, Logger& log, Clock& clock, ConcurrencyOptions concurrency, Metrics& metrics)
        : config(c),
          bucket(c.max_requests_per_second, c.burst),
          limiter(concurrency, clock),
          logged_limit(limiter.limit()),
          gauges(metrics.concurrency_gauges(c.name, "send")),
          token_outage(log, "SFMC token endpoint of account '" + c.name + "'"),
          rest_refused(log, "SFMC REST endpoint of account '" + c.name + "'") {}

    AccountConfig config;
    std::optional<AccessToken> token;
    bool fetching = false;
    int token_failures = 0;  // since the last token; while > 0 the request is repeated on its backoff
    Clock::time_point token_retry_at{};
    // The token endpoint's certificate was refused (the last try's error):
    // no token can come until that changes, so waiting sends fail with it.
    std::optional<std::string> token_refused;
    Clock::time_point cooled_until{};
    TokenBucket bucket;
    ConcurrencyLimiter limiter;
    size_t logged_limit;  // the limit the last log line gave
    Metrics::ConcurrencyGauges gauges;
    // Calls waiting for a connection, a token, the rate limit or a
    // cool-down; ids of calls merged into another are skipped.
    std::deque<uint64_t> ready;
    size_t singles_waiting = 0;  // calls in `ready` that nothing can join (not in `groups`)
    // Calls in flight that came from a group, and their recipients: how full
    // the calls that could have taken more are.
    size_t gathered_calls = 0;
    size_t gathered_recipients = 0;
    std::unordered_map<std::string, Group> groups;
    std::deque<std::string> full_groups;  // groups that filled a call (some may have gone since)
    std::optional<Clock::time_point> next_due;  // max_wait: when the first held-back call is due
    std::optional<Clock::time_point> wake_at;   // when pump() can do more, if no answer comes first
    OutageLog token_outage;
    OutageLog rest_refused;  // its certificate refused (other failures show in the outcomes)
  };

  void pump(Account& account);
  void pump_all();
  bool demand_past_limit(const Account& account, Clock::time_point now) const;
  std::optional<uint64_t> full_call(Account& account);
  bool due(Account& account, const Call& call, Clock::time_point now);
  void merge(Account& account, uint64_t id);
  static std::string merged_body(const std::vector<Member>& members, size_t bytes);
  void fetch_token(Account& account);
  void on_token(Account& account, const HttpResponse& response);
  // Every call waiting in the account fails with `reason` (sends that have
  // no token to go with).
  void fail_waiting(Account& account, const std::string& reason);
  void dispatch(Account& account, uint64_t id);
  // The limiter heard of a call: metrics, and a log line when the limit
  // halved or doubled since the last one.
  void limiter_moved(Account& account);
  void on_response(uint64_t id, const std::string& token_used, const HttpResponse& response);
  // Recipient's messageKey -> index of its send in a merged call (empty for one send).
  using KeyOwners = std::unordered_map<std::string_view, size_t>;
  void complete(uint64_t id, OutcomeStatus status, const KeyOwners& owners);
  void complete_merged(Call& call, const KeyOwners& owner);

  std::map<std::string, Account> accounts_;
  HttpTransport& transport_;
  Clock& clock_;
  Metrics& metrics_;
  Logger& log_;
  RetryPolicy retry_;
  std::mt19937_64 jitter_;
  CoalesceOptions coalesce_;
  std::unordered_map<uint64_t, Call> calls_;
  size_t max_calls_;  // the transport's connections
  size_t calls_in_flight_ = 0;
  size_t next_account_ = 0;  // pump_all() starts here, so no account always goes first
  std::multimap<Clock::time_point, uint64_t> retries_;
  uint64_t next_id_ = 1;
  int token_requests_ = 0;
  std::optional<std::string> fatal_;
  TokenShelf* shelf_ = nullptr;
  Dispatched dispatched_;
};

}  // namespace sfmc
