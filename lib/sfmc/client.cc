#include "sfmc/client.h"

#include <algorithm>

#include "sfmc/operations.h"
#include "sfmc/response.h"

namespace sfmc {

SfmcClient::SfmcClient(std::map<std::string, AccountConfig> accounts, HttpTransport& transport, Clock& clock,
                       RetryPolicy retry, uint64_t jitter_seed)
    : accounts_(std::move(accounts)),
      transport_(transport),
      clock_(clock),
      retry_(retry),
      tokens_(transport, clock),
      jitter_(jitter_seed) {}

std::chrono::milliseconds SfmcClient::backoff(int attempt, std::optional<int> retry_after_s) {
  if (retry_after_s) return std::min<std::chrono::milliseconds>(std::chrono::seconds(*retry_after_s), retry_.max_backoff);
  auto ceiling = retry_.base_backoff * (1LL << std::min(attempt - 1, 16));
  ceiling = std::min<std::chrono::milliseconds>(ceiling, retry_.max_backoff);
  std::uniform_int_distribution<int64_t> pick(ceiling.count() / 2, ceiling.count());
  return std::chrono::milliseconds(pick(jitter_));
}

void SfmcClient::send(const SendRequest& request, Outcome& outcome) {
  const AccountConfig& account = accounts_.at(request.account);
  const std::string path = request_path(request.operation, request.path_parameter);
  bool refreshed_after_401 = false;
  int calls = 0;

  for (int attempt = 1;; ++attempt) {
    outcome.attempts = ++calls;
    Classified result;
    auto token = tokens_.get(account);
    if (auto* error = std::get_if<TokenError>(&token)) {
      result.verdict = error->retryable ? Verdict::Retryable : Verdict::Rejected;
      result.http_status = error->http_status;
      result.errors.push_back({error->message, {}, std::nullopt, {}});
    } else {
      const auto& access = std::get<AccessToken>(token);
      HttpRequest http{"POST", access.rest_base_url + path,
                       {"Content-Type: application/json", "Accept: application/json",
                        "Authorization: Bearer " + access.value},
                       request.body};
      result = classify(transport_.perform(http), calls > 1);
    }

    if (result.verdict == Verdict::Unauthorized && !refreshed_after_401) {
      // The token may have expired early or been revoked: one fresh token,
      // one more try, as SFMC's own SDKs do.
      refreshed_after_401 = true;
      tokens_.invalidate(account.name);
      --attempt;
      continue;
    }

    outcome.http_status = result.http_status;
    outcome.request_id = std::move(result.request_id);
    outcome.message_keys = std::move(result.message_keys);
    outcome.token_id = std::move(result.token_id);
    outcome.errors = std::move(result.errors);
    switch (result.verdict) {
      case Verdict::Accepted: outcome.status = OutcomeStatus::Accepted; return;
      case Verdict::PartiallyAccepted: outcome.status = OutcomeStatus::PartiallyAccepted; return;
      case Verdict::Rejected:
      case Verdict::Unauthorized: outcome.status = OutcomeStatus::Rejected; return;
      case Verdict::Retryable: break;
    }
    if (attempt >= retry_.max_attempts) {
      outcome.status = OutcomeStatus::Failed;
      return;
    }
    clock_.sleep_for(backoff(attempt, result.retry_after_s));
  }
}

}  // namespace sfmc
