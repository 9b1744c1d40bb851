#include "sfmc/status_client.h"

#include "core/operations.h"

namespace sfmc {

StatusClient::StatusClient(const std::map<std::string, AccountConfig>& accounts, HttpTransport& transport,
                           Clock& clock, Logger& log, StatusClientOptions options)
    : transport_(transport), clock_(clock), log_(log), options_(options) {
  for (const auto& [name, config] : accounts) accounts_.try_emplace(name, config, options_.max_requests_per_second);
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
  for (auto& [name, account] : accounts_) pump(account, now);
}

void StatusClient::pump(Account& account, Clock::time_point now) {
  if (account.waiting.empty()) return;
  if (!account.token || now >= account.token->refresh_at) fetch_token(account);
  if (!account.token || now >= account.token->expires_at) {
    if (!account.fetching && account.token_retry_at > now && (!wake_at_ || account.token_retry_at < *wake_at_))
      wake_at_ = account.token_retry_at;
    return;  // the token's arrival wakes the poll
  }
  while (!account.waiting.empty() && in_flight_ < options_.max_in_flight) {
    if (!account.bucket.try_take(now)) {
      auto at = account.bucket.next_available(now);
      if (!wake_at_ || at < *wake_at_) wake_at_ = at;
      return;
    }
    Lookup lookup = std::move(account.waiting.front());
    account.waiting.pop_front();
    start(account, std::move(lookup));
  }
}

void StatusClient::start(Account& account, Lookup lookup) {
  ++in_flight_;
  HttpRequest request{"GET", account.token->rest_base_url + path(lookup.check),
                      {"Accept: application/json", "Authorization: Bearer " + account.token->value}, {}};
  std::string used = account.token->value;
  transport_.start(std::move(request), [this, &account, lookup = std::move(lookup),
                                        used = std::move(used)](HttpResponse response) mutable {
    --in_flight_;
    if (response.status == 401 && !lookup.retried_after_401) {
      // The token expired early or was revoked: a new one, and once more.
      if (account.token && account.token->value == used) account.token.reset();
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

void StatusClient::fetch_token(Account& account) {
  if (account.fetching || clock_.now() < account.token_retry_at) return;
  account.fetching = true;
  transport_.start(token_request(account.config), [this, &account](HttpResponse response) {
    account.fetching = false;
    auto now = clock_.now();
    auto read = read_token_response(response, account.config, now);
    if (auto* token = std::get_if<AccessToken>(&read)) {
      account.token = std::move(*token);
      account.token_error.clear();
      return;
    }
    const auto& error = std::get<TokenError>(read);
    if (error.message != account.token_error)
      log_.warn("status lookups: SFMC refused a token; retrying",
                {{"account", account.config.name}, {"error", error.message}});
    account.token_error = error.message;
    // Sends fetch their own tokens with backoff; lookups are in no hurry.
    account.token_retry_at = now + std::chrono::seconds(error.retry_after_s.value_or(5));
  });
}

}  // namespace sfmc
