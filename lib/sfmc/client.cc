#include "sfmc/client.h"

#include <algorithm>

#include "core/message_keys.h"
#include "core/operations.h"
#include "sfmc/response.h"

namespace sfmc {

using std::chrono::milliseconds;

SfmcClient::SfmcClient(const std::map<std::string, AccountConfig>& accounts, HttpTransport& transport, Clock& clock,
                       Metrics& metrics, Logger& log, RetryPolicy retry, uint64_t jitter_seed)
    : transport_(transport), clock_(clock), metrics_(metrics), retry_(retry), jitter_(jitter_seed) {
  for (const auto& [name, config] : accounts) accounts_.try_emplace(name, config, log);
}

milliseconds SfmcClient::backoff(int attempt, std::optional<int> retry_after_s) {
  if (retry_after_s) return std::chrono::seconds(*retry_after_s);
  auto ceiling = retry_.base_backoff * (1LL << std::clamp(attempt - 1, 0, 20));
  ceiling = std::min<milliseconds>(ceiling, retry_.max_backoff);
  std::uniform_int_distribution<int64_t> pick(ceiling.count() / 2, ceiling.count());
  return milliseconds(pick(jitter_));
}

void SfmcClient::send(SendRequest request, Done done) {
  uint64_t id = next_id_++;
  Account& account = accounts_.at(request.account);
  pending_.emplace(id, Pending{std::move(request), std::move(done), 0, false, {}, {}, {}});
  account.ready.push_back(id);
  pump(account);
}

void SfmcClient::warm_up() {
  for (auto& [name, account] : accounts_) fetch_token(account);
}

bool SfmcClient::tokens_ready() {
  auto now = clock_.now();
  for (auto& [name, account] : accounts_)
    if (!account.token || now >= account.token->expires_at) return false;
  return true;
}

bool SfmcClient::cooling_down(const std::string& name) {
  auto it = accounts_.find(name);
  return it != accounts_.end() && clock_.now() < it->second.cooled_until;
}

void SfmcClient::pump(Account& account) {
  while (!account.ready.empty()) {
    auto now = clock_.now();
    if (now < account.cooled_until) return;
    if (!account.token || now >= account.token->refresh_at) fetch_token(account);
    if (!account.token || now >= account.token->expires_at) return;
    if (!account.bucket.try_take(now)) return;
    uint64_t id = account.ready.front();
    account.ready.pop_front();
    dispatch(account, id);
  }
}

void SfmcClient::fetch_token(Account& account) {
  // One request per account at a time, however many sends wait for it.
  if (account.fetching || fatal_ || clock_.now() < account.token_retry_at) return;
  account.fetching = true;
  ++token_requests_;
  transport_.start(token_request(account.config),
                   [this, &account](HttpResponse response) { on_token(account, response); });
}

void SfmcClient::on_token(Account& account, const HttpResponse& response) {
  account.fetching = false;
  auto now = clock_.now();
  auto read = read_token_response(response, account.config, now);
  metrics_.token_request(std::holds_alternative<AccessToken>(read));
  if (auto* token = std::get_if<AccessToken>(&read)) {
    account.token = std::move(*token);
    account.token_failures = 0;
    account.token_outage.up(now);
  } else {
    const auto& error = std::get<TokenError>(read);
    if (!error.retryable) {
      fatal_ = error.message;
      return;
    }
    const milliseconds delay = backoff(++account.token_failures, error.retry_after_s);
    account.token_retry_at = now + delay;
    account.token_outage.down(now, error.message, delay);
  }
  pump(account);
}

void SfmcClient::dispatch(Account& account, uint64_t id) {
  Pending& p = pending_.at(id);
  p.sent_at = clock_.now();
  if (p.result.attempts == 0) p.first_call = p.sent_at;
  ++p.result.attempts;
  const AccessToken& token = *account.token;
  HttpRequest http{"POST", token.rest_base_url + request_path(p.request.operation, p.request.path_parameter),
                   {"Content-Type: application/json", "Accept: application/json", "Authorization: Bearer " + token.value},
                   p.request.body};
  transport_.start(std::move(http), [this, id, used = token.value](HttpResponse response) {
    on_response(id, used, response);
  });
}

void SfmcClient::on_response(uint64_t id, const std::string& token_used, const HttpResponse& response) {
  Pending& p = pending_.at(id);
  Account& account = accounts_.at(p.request.account);
  Classified c = classify(response, p.result.attempts > 1, derived_key_prefix(p.request.id));
  auto now = clock_.now();
  metrics_.request(p.request.operation, response.status, std::chrono::duration<double>(now - p.sent_at).count());

  if (c.verdict == Verdict::Unauthorized && !p.refreshed_after_401) {
    // The token was revoked or expired early: one fresh token (shared by
    // every send that met the same 401), one more try.
    p.refreshed_after_401 = true;
    metrics_.retry("unauthorized");
    if (account.token && account.token->value == token_used) account.token.reset();
    account.ready.push_front(id);
    pump(account);
    return;
  }

  p.result.http_status = c.http_status;
  p.result.request_id = std::move(c.request_id);
  p.result.message_keys = std::move(c.message_keys);
  p.result.token_id = std::move(c.token_id);
  p.result.errors = std::move(c.errors);
  switch (c.verdict) {
    case Verdict::Accepted: return complete(id, OutcomeStatus::Accepted);
    case Verdict::PartiallyAccepted: return complete(id, OutcomeStatus::PartiallyAccepted);
    case Verdict::Rejected:
    case Verdict::Unauthorized: return complete(id, OutcomeStatus::Rejected);
    case Verdict::Retryable: break;
  }

  milliseconds delay = backoff(++p.failures, c.retry_after_s);
  if (c.blocked && !c.retry_after_s) delay = std::max(delay, retry_.blocked_cooldown);
  if (c.throttled && now + delay > account.cooled_until) {
    account.cooled_until = now + delay;  // the whole account waits
    metrics_.cooldown(account.config.name);
  }
  if (p.failures >= retry_.max_attempts || now + delay - p.first_call > retry_.max_total)
    return complete(id, OutcomeStatus::Failed);
  metrics_.retry(c.blocked ? "blocked" : c.throttled ? "throttled" : response.status == 0 ? "network" : "server_error");
  retries_.emplace(now + delay, id);
}

void SfmcClient::complete(uint64_t id, OutcomeStatus status) {
  auto node = pending_.extract(id);
  node.mapped().result.status = status;
  node.mapped().done(std::move(node.mapped().result));
}

void SfmcClient::poll() {
  auto now = clock_.now();
  while (!retries_.empty() && retries_.begin()->first <= now) {
    uint64_t id = retries_.begin()->second;
    retries_.erase(retries_.begin());
    accounts_.at(pending_.at(id).request.account).ready.push_back(id);
  }
  for (auto& [name, account] : accounts_) {
    // A failed token request is repeated whether or not sends wait, so an
    // outage is seen to last and to end, and readiness follows.
    if (account.token_failures > 0) fetch_token(account);
    pump(account);
  }
}

std::optional<Clock::time_point> SfmcClient::next_wakeup() {
  std::optional<Clock::time_point> next;
  auto consider = [&](Clock::time_point t) {
    if (!next || t < *next) next = t;
  };
  if (!retries_.empty()) consider(retries_.begin()->first);
  auto now = clock_.now();
  for (auto& [name, account] : accounts_) {
    if (account.token_failures > 0 && !account.fetching && !fatal_) consider(account.token_retry_at);
    if (account.ready.empty()) continue;
    if (now < account.cooled_until) consider(account.cooled_until);
    else if (account.token && now < account.token->expires_at) consider(account.bucket.next_available(now));
  }
  return next;
}

}  // namespace sfmc
