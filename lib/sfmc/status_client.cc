#include "sfmc/status_client.h"

#include "core/operations.h"

namespace sfmc {

StatusClient::StatusClient(const std::map<std::string, AccountConfig>& accounts, HttpTransport& transport,
                           Clock& clock, TokenShelf& tokens, StatusClientOptions options, Metrics* metrics)
    : transport_(transport), clock_(clock), tokens_(tokens), options_(options) {
  // Starting at its ceiling: lookups are few, and their route throttles
  // with 429s that the limiter hears.
  ConcurrencyOptions concurrency{.max = options_.max_in_flight, .initial = options_.max_in_flight};
  for (const auto& [name, config] : accounts) {
    auto [it, added] = accounts_.try_emplace(name, options_.max_requests_per_second, concurrency, clock_);
    if (metrics) it->second.gauges.emplace(metrics->concurrency_gauges(name, "status"));
    show(it->second);
  }
}

void StatusClient::show(Account& account) {
  if (account.gauges)
    account.gauges->set(account.limiter.limit(), account.limiter.in_flight(), account.limiter.baseline_seconds());
}

std::string StatusClient::path(const StatusCheck& check) {
  if (!check.token_id.empty()) {
    const char* route = check.operation == "mobileconnect.messageList.send" ? "messageList" : "messageContact";
    return std::string("/sms/v1/") + route + "/" + encode_path_segment(check.message_id) + "/deliveries/" +
           encode_path_segment(check.token_id);
  }
  const char* channel = check.operation == "transactional.email.send" ? "email" : "sms";
  return std::string("/messaging/v1/") + channel + "/messages/" + encode_path_segment(check.message_key);
}

void StatusClient::lookup(const StatusCheck& check, Done done) {
  auto it = accounts_.find(check.account);
  if (it == accounts_.end()) {
    StatusAnswer answer;
    answer.error = "account '" + check.account + "' is not configured";
    return done(std::move(answer));
  }
  it->second.waiting.push_back({check, std::move(done)});
}

size_t StatusClient::waiting() const {
  size_t n = 0;
  for (const auto& [name, account] : accounts_) n += account.waiting.size();
  return n;
}

void StatusClient::poll() {
  auto now = clock_.now();
  wake_at_.reset();
  for (auto& [name, account] : accounts_) pump(name, account, now);
}

void StatusClient::pump(const std::string& name, Account& account, Clock::time_point now) {
  if (account.waiting.empty()) return;
  auto token = tokens_.get(name);
  if (token && token->value == account.refused) token.reset();
  if (!token || now >= token->refresh_at) tokens_.want(name, account.refused);
  if (!token || now >= token->expires_at) return;  // the caller polls again soon
  account.refused.clear();
  while (!account.waiting.empty() && in_flight_ < options_.max_in_flight) {
    if (!account.limiter.has_room()) {  // an answer wakes the caller
      account.limiter.held();
      return;
    }
    if (!account.bucket.try_take(now)) {
      auto at = account.bucket.next_available(now);
      if (!wake_at_ || at < *wake_at_) wake_at_ = at;
      return;
    }
    Lookup lookup = std::move(account.waiting.front());
    account.waiting.pop_front();
    start(name, account, *token, std::move(lookup));
  }
}

void StatusClient::start(const std::string& name, Account& account, const AccessToken& token, Lookup lookup) {
  ++in_flight_;
  auto ticket = account.limiter.started();
  show(account);
  HttpRequest request{"GET", token.rest_base_url + path(lookup.check),
                      {"Accept: application/json", "Authorization: Bearer " + token.value}, {}};
  transport_.start(std::move(request), [this, &name, &account, lookup = std::move(lookup), ticket,
                                        used = token.value](HttpResponse response) mutable {
    --in_flight_;
    account.limiter.finished(ticket, ConcurrencyLimiter::answer_for(response.status));
    show(account);
    if (response.status == 401 && !lookup.retried_after_401) {
      // Expired early or revoked: another token, and once more.
      account.refused = used;
      tokens_.want(name, used);
      lookup.retried_after_401 = true;
      account.waiting.push_front(std::move(lookup));
      return;
    }
    bool mobile_connect = !lookup.check.token_id.empty();
    auto answer = mobile_connect ? read_delivery_status(response.status, response.body)
                                 : read_message_status(response.status, response.body);
    if (response.status == 0 && answer.error.empty()) answer.error = response.transport_error;
    lookup.done(std::move(answer));
  });
}

}  // namespace sfmc
