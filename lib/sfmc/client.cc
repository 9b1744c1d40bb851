#include "sfmc/client.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <unordered_set>

#include "core/message_keys.h"
#include "core/operations.h"
#include "sfmc/response.h"

namespace sfmc {

using std::chrono::milliseconds;

SfmcClient::SfmcClient(const std::map<std::string, AccountConfig>& accounts, HttpTransport& transport, Clock& clock,
                       Metrics& metrics, Logger& log, RetryPolicy retry, uint64_t jitter_seed, CoalesceOptions coalesce,
                       ConcurrencyOptions concurrency)
    : transport_(transport),
      clock_(clock),
      metrics_(metrics),
      log_(log),
      retry_(retry),
      jitter_(jitter_seed),
      coalesce_(coalesce),
      max_calls_(std::max<size_t>(1, concurrency.max)) {
  for (const auto& [name, config] : accounts) {
    ConcurrencyOptions own = concurrency;
    if (config.concurrency) own.fixed = *config.concurrency;
    auto [it, added] = accounts_.try_emplace(name, config, log, clock, own, metrics);
    limiter_moved(it->second);
  }
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
  Call& call = calls_[id];
  call.route = request.operation;
  call.path_parameter = std::move(request.path_parameter);
  call.body = std::move(request.body);
  call.queued_at = clock_.now();
  bool mergeable = coalesce_.enabled && request.mergeable;
  if (request.mergeable) call.recipients = request.mergeable->recipients.size();
  if (mergeable) {
    const MergeableSend& parts = *request.mergeable;
    call.group.reserve(parts.shared.size() + 1);
    call.group += static_cast<char>('0' + static_cast<int>(parts.route));
    call.group += parts.shared;
  }
  call.members.push_back({std::move(request), std::move(done)});
  call.queued = true;
  account.ready.push_back(id);
  if (!mergeable) {
    ++account.singles_waiting;
    return pump(account);
  }
  Group& group = account.groups[call.group];
  group.calls.push_back(id);
  bool was_full = group.recipients >= coalesce_.max_recipients;
  group.recipients += call.recipients;
  if (!was_full && group.recipients >= coalesce_.max_recipients) account.full_groups.push_back(call.group);
}

size_t SfmcClient::pending() const {
  size_t sends = 0;
  for (const auto& [id, call] : calls_) sends += call.members.size();
  return sends;
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
  auto now = clock_.now();
  account.next_due.reset();
  account.wake_at.reset();
  std::deque<uint64_t> held;  // not due yet (max_wait): they keep their place
  while (true) {
    // A full call first: it carries max_recipients sends for one place.
    // Else the oldest waiting call.
    std::optional<uint64_t> full = full_call(account);
    if (!full && account.ready.empty()) break;
    uint64_t id = full ? *full : account.ready.front();
    auto call = calls_.find(id);
    if (call == calls_.end() || !call->second.queued) {  // merged into an earlier call, or gone out of turn
      account.ready.pop_front();  // (a group's calls are all queued: `full` never lands here)
      continue;
    }
    if (!full && !due(account, call->second, now)) {
      held.push_back(id);
      account.ready.pop_front();
      continue;
    }
    if (now < account.cooled_until) {
      account.wake_at = account.cooled_until;
      break;
    }
    if (!account.token || now >= account.token->refresh_at) fetch_token(account);
    if (!account.token || now >= account.token->expires_at) {  // the token's arrival wakes the poll
      if (account.token_refused) account.wake_at = now;  // or poll() fails what waits
      break;
    }
    if (calls_in_flight_ >= max_calls_) break;  // so does an answer
    if (!account.limiter.has_room()) {  // and this account's (waiting calls merge meanwhile)
      if (demand_past_limit(account, now)) account.limiter.held();
      break;
    }
    if (!account.bucket.try_take(now)) {
      account.wake_at = account.bucket.next_available(now);
      break;
    }
    if (!full) account.ready.pop_front();
    call->second.queued = false;
    if (call->second.group.empty()) --account.singles_waiting;
    else call->second.gathered = true;
    merge(account, id);
    if (call->second.gathered) {
      ++account.gathered_calls;
      account.gathered_recipients += call->second.recipients;
    }
    dispatch(account, id);
  }
  account.ready.insert(account.ready.begin(), held.begin(), held.end());
  if (account.next_due && (!account.wake_at || *account.next_due < *account.wake_at)) account.wake_at = account.next_due;
}

// The first call of a group that fills a call, if any.
std::optional<uint64_t> SfmcClient::full_call(Account& account) {
  while (!account.full_groups.empty()) {
    auto group = account.groups.find(account.full_groups.front());
    if (group != account.groups.end() && group->second.recipients >= coalesce_.max_recipients)
      return group->second.calls.front();
    account.full_groups.pop_front();  // went, or took less
  }
  return std::nullopt;
}

// Whether more places would carry more: what waits must make more than one
// call (one group short of a full call is company gathering, which the next
// free place takes whole). A call that nothing can join needs a place of
// its own. Groups, which gather company while they wait, need more places
// only while the calls from groups in flight are at least half full (with
// emptier calls the limit already carries more calls than the traffic
// needs, and more places would only make them emptier), or when a group has
// waited two round trips (many small groups, each waiting its turn).
bool SfmcClient::demand_past_limit(const Account& account, Clock::time_point now) const {
  size_t calls = account.singles_waiting;
  for (const auto& [key, group] : account.groups)
    calls += std::max<size_t>(1, (group.recipients + coalesce_.max_recipients - 1) / coalesce_.max_recipients);
  if (calls <= 1) return false;
  if (account.singles_waiting > 0 || account.gathered_calls == 0) return true;
  if (2 * account.gathered_recipients >= account.gathered_calls * coalesce_.max_recipients) return true;
  const auto baseline = account.limiter.baseline_seconds();
  if (!baseline) return false;
  const auto waited_long = now - std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(2 * *baseline));
  for (const auto& [key, group] : account.groups)
    if (calls_.at(group.calls.front()).queued_at < waited_long) return true;
  return false;
}

void SfmcClient::pump_all() {
  if (accounts_.empty()) return;
  auto first = accounts_.begin();
  std::advance(first, next_account_++ % accounts_.size());
  for (auto it = first; it != accounts_.end(); ++it) pump(it->second);
  for (auto it = accounts_.begin(); it != first; ++it) pump(it->second);
}

// With max_wait, a mergeable call waits for company until its group fills a
// call or it has waited max_wait.
bool SfmcClient::due(Account& account, const Call& call, Clock::time_point now) {
  if (coalesce_.max_wait.count() <= 0 || call.group.empty()) return true;
  if (account.groups.at(call.group).recipients >= coalesce_.max_recipients) return true;
  auto at = call.queued_at + coalesce_.max_wait;
  if (now >= at) return true;
  if (!account.next_due || at < *account.next_due) account.next_due = at;
  return false;
}

namespace {

size_t parts_bytes(const MergeableSend& parts) {
  size_t bytes = parts.shared.size();
  for (const auto& r : parts.recipients) bytes += r.size() + 1;
  return bytes;
}

}  // namespace

// The call `id` leaves its group and takes along the calls of the group that
// fit: within the recipient and size limits, no messageKey twice.
void SfmcClient::merge(Account& account, uint64_t id) {
  Call& head = calls_.at(id);
  if (head.group.empty()) return;
  auto node = account.groups.find(head.group);
  Group& group = node->second;
  size_t bytes = parts_bytes(*head.members.front().request.mergeable);
  const auto& first_keys = head.members.front().request.mergeable->message_keys;
  std::unordered_set<std::string> keys(first_keys.begin(), first_keys.end());
  std::deque<uint64_t> left;
  size_t left_recipients = 0;
  for (uint64_t other : group.calls) {
    if (other == id) continue;
    Call& candidate = calls_.at(other);
    const MergeableSend& parts = *candidate.members.front().request.mergeable;
    bool fits = head.recipients + candidate.recipients <= coalesce_.max_recipients &&
                bytes + parts_bytes(parts) <= coalesce_.max_body_bytes;
    for (size_t i = 0; fits && i < parts.message_keys.size(); ++i) fits = !keys.contains(parts.message_keys[i]);
    if (!fits) {
      left.push_back(other);
      left_recipients += candidate.recipients;
      continue;
    }
    keys.insert(parts.message_keys.begin(), parts.message_keys.end());
    bytes += parts_bytes(parts);
    head.recipients += candidate.recipients;
    head.members.push_back(std::move(candidate.members.front()));
    calls_.erase(other);
  }
  if (left.empty()) account.groups.erase(node);
  else group = Group{std::move(left), left_recipients};
  std::string().swap(head.group);
  if (head.members.size() > 1) {  // alone, it keeps its own route and body, as sent unmerged
    head.body = merged_body(head.members, bytes);
    head.route = head.members.front().request.mergeable->route;
    head.path_parameter.clear();
  }
  // What is left to know is each recipient's key.
  for (auto& member : head.members) {
    std::string().swap(member.request.mergeable->shared);
    std::vector<std::string>().swap(member.request.mergeable->recipients);
  }
}

// {shared members,"recipients":[every member's recipients]}
std::string SfmcClient::merged_body(const std::vector<Member>& members, size_t bytes) {
  const MergeableSend& first = *members.front().request.mergeable;
  std::string body;
  body.reserve(bytes + 32);
  body += '{';
  body += first.shared;
  body += first.shared.empty() ? "\"recipients\":[" : ",\"recipients\":[";
  bool comma = false;
  for (const auto& member : members)
    for (const auto& recipient : member.request.mergeable->recipients) {
      if (comma) body += ',';
      body += recipient;
      comma = true;
    }
  body += "]}";
  return body;
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
    if (shelf_) shelf_->put(account.config.name, *account.token);
    account.token_failures = 0;
    account.token_refused.reset();
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
    // An outage passes and the sends wait for it; a refused certificate
    // stays until someone changes the CAs or the endpoint, and the sends
    // waiting for it are told why they failed.
    if (error.certificate_refused) account.token_refused = error.message;
    else account.token_refused.reset();
    if (account.token_refused && (!account.token || now >= account.token->expires_at))
      fail_waiting(account, *account.token_refused);
  }
  pump(account);
}

void SfmcClient::fail_waiting(Account& account, const std::string& reason) {
  std::vector<uint64_t> waiting;
  for (uint64_t id : account.ready) {
    auto call = calls_.find(id);
    if (call == calls_.end() || !call->second.queued) continue;  // merged, or gone out of turn
    call->second.queued = false;  // (a retry queued twice is taken once)
    waiting.push_back(id);
  }
  account.ready.clear();
  account.groups.clear();
  account.full_groups.clear();
  account.singles_waiting = 0;
  const std::string message = "no SFMC token for account '" + account.config.name + "': " + reason;
  for (uint64_t id : waiting) {
    Call& call = calls_.at(id);
    if (call.result.attempts == 0 && dispatched_)
      for (const auto& member : call.members) dispatched_(member.request.tag, 1);
    call.result.errors = {ErrorDetail{message, {}, std::nullopt, {}}};
    call.result.http_status = 0;
    complete(id, OutcomeStatus::Failed, {});
  }
}

void SfmcClient::dispatch(Account& account, uint64_t id) {
  Call& call = calls_.at(id);
  call.ticket = account.limiter.started();
  limiter_moved(account);
  if (call.result.attempts == 0) {
    call.first_call = call.ticket.started;
    if (call.recipients > 0) metrics_.batch(call.route, call.recipients, call.members.size());
    if (dispatched_)
      for (const auto& member : call.members) dispatched_(member.request.tag, call.members.size());
  }
  ++call.result.attempts;
  ++calls_in_flight_;
  const AccessToken& token = *account.token;
  HttpRequest http{"POST", token.rest_base_url + request_path(call.route, call.path_parameter),
                   {"Content-Type: application/json", "Accept: application/json", "Authorization: Bearer " + token.value},
                   call.body};
  transport_.start(std::move(http), [this, id, used = token.value](HttpResponse response) {
    on_response(id, used, response);
  });
}

void SfmcClient::limiter_moved(Account& account) {
  const ConcurrencyLimiter& limiter = account.limiter;
  size_t limit = limiter.limit();
  account.gauges.set(limit, limiter.in_flight(), limiter.baseline_seconds());
  if (limit < account.logged_limit * 2 && limit * 2 > account.logged_limit) return;
  // The log line is for big moves; the gauges show every step.
  auto baseline_ms = std::lround(limiter.baseline_seconds().value_or(0) * 1000);
  log_.info(limit > account.logged_limit ? "SFMC concurrency limit raised" : "SFMC concurrency limit cut",
            {{"account", account.config.name},
             {"limit", limit},
             {"previous", account.logged_limit},
             {"in_flight", limiter.in_flight()},
             {"latency_baseline_ms", baseline_ms}});
  account.logged_limit = limit;
}

void SfmcClient::on_response(uint64_t id, const std::string& token_used, const HttpResponse& response) {
  --calls_in_flight_;
  Call& call = calls_.at(id);
  Account& account = accounts_.at(call.members.front().request.account);
  if (call.gathered) {  // a retry carries what it carries: no longer counted as one that could take more
    call.gathered = false;
    --account.gathered_calls;
    account.gathered_recipients -= call.recipients;
  }
  const size_t limit_before = account.limiter.limit();
  account.limiter.finished(call.ticket, response.certificate_refused ? ConcurrencyLimiter::Answer::Ignored
                                                                     : ConcurrencyLimiter::answer_for(response.status));
  limiter_moved(account);
  // A 109110 on a key derived for the event that owns it, or on any key of an
  // event that may have been sent before (redriven), means "sent before".
  // Of a merged call: which send each recipient's key belongs to.
  KeyOwners owners;
  if (call.members.size() > 1)
    for (size_t i = 0; i < call.members.size(); ++i)
      for (const auto& key : call.members[i].request.mergeable->message_keys) owners.emplace(key, i);
  Classified c = classify(response, call.may_have_reached_sfmc, [&](std::string_view key) {
    const SendRequest* owner = &call.members.front().request;
    if (!owners.empty()) {
      auto it = owners.find(key);
      if (it == owners.end()) return false;
      owner = &call.members[it->second].request;
    }
    return owner->may_have_been_sent || key.starts_with(derived_key_prefix(owner->id));
  });
  // No answer, a timeout or a server error: SFMC may have taken the request
  // (a 401 or a 429 says it did not).
  if ((response.status == 0 && !response.certificate_refused) || response.status == 408 || response.status >= 500)
    call.may_have_reached_sfmc = true;
  auto now = clock_.now();
  metrics_.request(call.route, response.status, std::chrono::duration<double>(now - call.ticket.started).count());
  if (response.certificate_refused) account.rest_refused.down(now, response.transport_error);
  else if (response.status != 0) account.rest_refused.up(now);

  if (c.verdict == Verdict::Unauthorized && !call.refreshed_after_401) {
    // The token was revoked or expired early: one fresh token (shared by
    // every send that met the same 401), one more try.
    call.refreshed_after_401 = true;
    metrics_.retry("unauthorized");
    if (account.token && account.token->value == token_used) account.token.reset();
    call.queued = true;
    account.ready.push_front(id);
    ++account.singles_waiting;
    pump_all();
    return;
  }

  call.result.http_status = c.http_status;
  call.result.request_id = std::move(c.request_id);
  call.result.message_keys = std::move(c.message_keys);
  call.result.token_id = std::move(c.token_id);
  call.result.errors = std::move(c.errors);
  switch (c.verdict) {
    case Verdict::Accepted: return complete(id, OutcomeStatus::Accepted, owners);
    case Verdict::PartiallyAccepted: return complete(id, OutcomeStatus::PartiallyAccepted, owners);
    case Verdict::Rejected:
    case Verdict::Unauthorized: return complete(id, OutcomeStatus::Rejected, owners);
    case Verdict::Failed: return complete(id, OutcomeStatus::Failed, owners);
    case Verdict::Retryable: break;
  }

  milliseconds delay;
  if (c.blocked && !c.retry_after_s && account.limiter.adaptive() && limit_before > 1) {
    // Too many calls in flight: the limiter has cut the limit; the call
    // goes again soon, behind it. SFMC did nothing with it, so it costs no
    // attempt; the retry budget in time still bounds it.
    std::uniform_int_distribution<int64_t> pick(retry_.blocked_retry.count() / 2, retry_.blocked_retry.count());
    delay = milliseconds(pick(jitter_));
  } else {
    delay = backoff(++call.failures, c.retry_after_s);
    if (c.blocked && !c.retry_after_s) delay = std::max(delay, retry_.blocked_cooldown);
    if (c.throttled && now + delay > account.cooled_until) {
      account.cooled_until = now + delay;  // the whole account waits
      metrics_.cooldown(account.config.name);
    }
  }
  if (call.failures >= retry_.max_attempts || now + delay - call.first_call > retry_.max_total)
    return complete(id, OutcomeStatus::Failed, owners);
  metrics_.retry(c.blocked ? "blocked" : c.throttled ? "throttled" : response.status == 0 ? "network" : "server_error");
  retries_.emplace(now + delay, id);
  pump_all();  // the connection is free
}

void SfmcClient::complete(uint64_t id, OutcomeStatus status, const KeyOwners& owners) {
  auto node = calls_.extract(id);
  Call& call = node.mapped();
  call.result.status = status;
  if (call.members.size() == 1) call.members.front().done(std::move(call.result));
  else complete_merged(call, owners);
  pump_all();  // the connection is free
}

// Each send of a merged call gets what SFMC said about its own recipients;
// what SFMC said about the whole request is said to each.
void SfmcClient::complete_merged(Call& call, const KeyOwners& owner) {
  const SendResult& all = call.result;
  std::vector<SendResult> results(call.members.size());
  for (auto& r : results) {
    r.http_status = all.http_status;
    r.request_id = all.request_id;
    r.attempts = all.attempts;
  }
  bool answered = all.status != OutcomeStatus::Failed && all.http_status >= 200 && all.http_status < 300;
  std::unordered_set<std::string_view> refused;
  for (const auto& error : all.errors) {
    auto it = answered && !error.message_key.empty() ? owner.find(error.message_key) : owner.end();
    if (it != owner.end()) {
      results[it->second].errors.push_back(error);
      refused.insert(error.message_key);
    } else {
      for (auto& r : results) r.errors.push_back(error);
    }
  }
  for (size_t i = 0; i < call.members.size(); ++i) {
    SendResult& r = results[i];
    if (answered)
      for (const auto& key : call.members[i].request.mergeable->message_keys)
        if (!refused.contains(key)) r.message_keys.push_back(key);
    if (!answered) r.status = all.status;
    else if (r.errors.empty()) r.status = OutcomeStatus::Accepted;
    else if (r.message_keys.empty()) r.status = OutcomeStatus::Rejected;
    else r.status = OutcomeStatus::PartiallyAccepted;
    call.members[i].done(std::move(r));
  }
}

void SfmcClient::poll() {
  auto now = clock_.now();
  while (!retries_.empty() && retries_.begin()->first <= now) {
    uint64_t id = retries_.begin()->second;
    retries_.erase(retries_.begin());
    Call& call = calls_.at(id);
    Account& account = accounts_.at(call.members.front().request.account);
    call.queued = true;
    account.ready.push_back(id);
    ++account.singles_waiting;  // a retry keeps its call: nothing joins it
  }
  for (auto& [name, account] : accounts_) {
    // A failed token request is repeated whether or not sends wait, so an
    // outage is seen to last and to end, and readiness follows.
    if (account.token_failures > 0) fetch_token(account);
    if (account.token_refused && (!account.token || now >= account.token->expires_at))
      fail_waiting(account, *account.token_refused);
    std::string refused;
    if (shelf_ && shelf_->take_want(name, refused)) {
      if (account.token && !refused.empty() && account.token->value == refused) account.token.reset();
      if (!account.token || now >= account.token->refresh_at) fetch_token(account);
      else shelf_->put(name, *account.token);
    }
  }
  pump_all();
}

std::optional<Clock::time_point> SfmcClient::next_wakeup() {
  std::optional<Clock::time_point> next;
  auto consider = [&](Clock::time_point t) {
    if (!next || t < *next) next = t;
  };
  if (!retries_.empty()) consider(retries_.begin()->first);
  for (auto& [name, account] : accounts_) {
    if (account.token_failures > 0 && !account.fetching && !fatal_) consider(account.token_retry_at);
    if (account.wake_at) consider(*account.wake_at);
  }
  return next;
}

}  // namespace sfmc
