#include "telemetry/metrics.h"

#include "core/outcome_json.h"
#include "core/operations.h"

namespace sfmc {

namespace {

const prometheus::Histogram::BucketBoundaries kLatencyBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                              0.25,  0.5,    1,     2.5,  5,     10,   30};
const prometheus::Histogram::BucketBoundaries kRecipientBuckets{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000};

}  // namespace

Metrics::Metrics(prometheus::Registry& registry, std::string_view version)
    : events_consumed_(prometheus::BuildCounter()
                           .Name("sfmc_relay_events_consumed_total")
                           .Help("Events read from the input topics")
                           .Register(registry)
                           .Add({})),
      invalid_family_(prometheus::BuildCounter()
                          .Name("sfmc_relay_invalid_events_total")
                          .Help("Events refused before sending, by reason")
                          .Register(registry)),
      requests_family_(prometheus::BuildCounter()
                           .Name("sfmc_relay_sfmc_requests_total")
                           .Help("HTTP requests to SFMC's send routes, by operation and status code (0: no response)")
                           .Register(registry)),
      coalesced_events_(prometheus::BuildCounter()
                            .Name("sfmc_relay_coalesced_events_total")
                            .Help("Events sent in one SFMC call together with other events")
                            .Register(registry)
                            .Add({})),
      outcomes_family_(prometheus::BuildCounter()
                           .Name("sfmc_relay_outcomes_total")
                           .Help("Outcomes published, by operation and status")
                           .Register(registry)),
      dead_letters_family_(prometheus::BuildCounter()
                               .Name("sfmc_relay_dead_letters_total")
                               .Help("Events written to the dead-letter topic, by status (invalid, rejected, failed)")
                               .Register(registry)),
      dead_invalid_(dead_letters_family_.Add({{"status", "invalid"}})),
      dead_rejected_(dead_letters_family_.Add({{"status", "rejected"}})),
      dead_failed_(dead_letters_family_.Add({{"status", "failed"}})),
      retries_family_(prometheus::BuildCounter()
                          .Name("sfmc_relay_retries_total")
                          .Help("Send attempts scheduled again, by reason")
                          .Register(registry)),
      token_family_(prometheus::BuildCounter()
                        .Name("sfmc_relay_token_requests_total")
                        .Help("OAuth token requests, by result")
                        .Register(registry)),
      token_ok_(token_family_.Add({{"result", "ok"}})),
      token_error_(token_family_.Add({{"result", "error"}})),
      cooldowns_family_(prometheus::BuildCounter()
                            .Name("sfmc_relay_account_cooldowns_total")
                            .Help("Times an account paused all its sends (429)")
                            .Register(registry)),
      concurrency_limit_family_(prometheus::BuildGauge()
                                    .Name("sfmc_relay_sfmc_concurrency_limit")
                                    .Help("Calls an account may have in flight at SFMC (learnt, or pinned), by "
                                          "account and calls (send, status)")
                                    .Register(registry)),
      calls_in_flight_family_(prometheus::BuildGauge()
                                  .Name("sfmc_relay_sfmc_calls_in_flight")
                                  .Help("Calls in flight at SFMC, by account and calls (send, status)")
                                  .Register(registry)),
      latency_baseline_family_(prometheus::BuildGauge()
                                   .Name("sfmc_relay_sfmc_latency_baseline_seconds")
                                   .Help("The latency the concurrency limiter takes as usual (an average of recent "
                                         "round trips), by account and calls (send, status)")
                                   .Register(registry)),
      assignments_lost_(prometheus::BuildCounter()
                            .Name("sfmc_relay_assignments_lost_total")
                            .Help("Times the group took this member's partitions back (session expired, fenced)")
                            .Register(registry)
                            .Add({})),
      in_flight_(prometheus::BuildGauge()
                     .Name("sfmc_relay_in_flight_events")
                     .Help("Events consumed and not yet finished")
                     .Register(registry)
                     .Add({})),
      window_(prometheus::BuildGauge()
                  .Name("sfmc_relay_window_events")
                  .Help("Events consumed and not yet covered by a confirmed offset commit")
                  .Register(registry)
                  .Add({})),
      paused_partitions_(prometheus::BuildGauge()
                             .Name("sfmc_relay_paused_partitions")
                             .Help("Input partitions paused by backpressure")
                             .Register(registry)
                             .Add({})),
      lag_family_(prometheus::BuildGauge()
                      .Name("sfmc_relay_consumer_lag")
                      .Help("Messages behind the partition's end, per assigned partition")
                      .Register(registry)),
      end_to_end_(prometheus::BuildHistogram()
                      .Name("sfmc_relay_end_to_end_seconds")
                      .Help("From the event's Kafka timestamp to its outcome acknowledged")
                      .Register(registry)
                      .Add({}, kLatencyBuckets)),
      transactions_committed_(prometheus::BuildCounter()
                                  .Name("sfmc_relay_transactions_total")
                                  .Help("Kafka transactions ended (exactly-once mode), by result")
                                  .Register(registry)
                                  .Add({{"result", "committed"}})),
      transactions_aborted_(prometheus::BuildCounter()
                                .Name("sfmc_relay_transactions_total")
                                .Help("Kafka transactions ended (exactly-once mode), by result")
                                .Register(registry)
                                .Add({{"result", "aborted"}})),
      transaction_commit_(prometheus::BuildHistogram()
                              .Name("sfmc_relay_transaction_commit_seconds")
                              .Help("Time to commit a Kafka transaction: its input offsets and outcome records")
                              .Register(registry)
                              .Add({}, kLatencyBuckets)),
      status_checks_family_(prometheus::BuildCounter()
                                .Name("sfmc_relay_status_checks_total")
                                .Help("Delivery status lookups done, by result (final, pending, retry, dropped)")
                                .Register(registry)),
      delivery_states_family_(prometheus::BuildCounter()
                                  .Name("sfmc_relay_delivery_states_total")
                                  .Help("Delivery records published, by operation and state")
                                  .Register(registry)),
      followup_lag_(prometheus::BuildGauge()
                        .Name("sfmc_relay_status_followup_lag_seconds")
                        .Help("How long the oldest due status lookup has been waiting (0: none late)")
                        .Register(registry)
                        .Add({})),
      status_held_(prometheus::BuildGauge()
                       .Name("sfmc_relay_status_checks_held")
                       .Help("Status checks read from the follow-up topic and waiting in memory for their time")
                       .Register(registry)
                       .Add({})) {
  auto& duration = prometheus::BuildHistogram()
                       .Name("sfmc_relay_sfmc_request_duration_seconds")
                       .Help("Duration of HTTP requests to SFMC's send routes, by operation")
                       .Register(registry);
  for (const auto& op : kOperations)
    request_duration_[static_cast<size_t>(op.operation)] =
        &duration.Add({{"operation", std::string(op.name)}}, kLatencyBuckets);
  auto& recipients = prometheus::BuildHistogram()
                         .Name("sfmc_relay_batch_recipients")
                         .Help("Recipients per call of a Transactional Messaging route, by operation")
                         .Register(registry);
  for (auto op : {Operation::TransactionalSmsSend, Operation::TransactionalSmsSendOne, Operation::TransactionalEmailSend})
    batch_recipients_[static_cast<size_t>(op)] =
        &recipients.Add({{"operation", std::string(info(op).name)}}, kRecipientBuckets);
  // The label values known in advance exist at 0 from the start: a rate()
  // then sees the first event (a series born at 1 shows no increase), and the
  // dashboard and alerts (helm/sfmc-relay/files/) find every family on the
  // first scrape.
  for (const char* reason : {"not_json", "too_large", "too_deep", "envelope", "body", "rule", "account"})
    cache_[std::string("invalid|") + reason] = &invalid_family_.Add({{"reason", reason}});
  for (const char* reason : {"throttled", "blocked", "server_error", "network", "unauthorized"})
    cache_[std::string("retry|") + reason] = &retries_family_.Add({{"reason", reason}});
  for (auto status : {OutcomeStatus::Accepted, OutcomeStatus::PartiallyAccepted, OutcomeStatus::Invalid,
                      OutcomeStatus::Rejected, OutcomeStatus::Failed}) {
    std::string s(to_string(status));
    for (const auto& op : kOperations) {
      std::string name(op.name);
      cache_["outcome|" + name + "|" + s] = &outcomes_family_.Add({{"operation", name}, {"status", s}});
    }
  }
  cache_["outcome|unknown|invalid"] = &outcomes_family_.Add({{"operation", "unknown"}, {"status", "invalid"}});
  prometheus::BuildGauge()
      .Name("sfmc_relay_build_info")
      .Help("Version of the running sfmc-relay")
      .Register(registry)
      .Add({{"version", std::string(version)}})
      .Set(1);
}

void Metrics::invalid_event(const std::string& reason) {
  auto& c = cache_["invalid|" + reason];
  if (!c) c = &invalid_family_.Add({{"reason", reason}});
  c->Increment();
}

void Metrics::request(Operation operation, int http_status, double seconds) {
  std::string name(info(operation).name);
  std::string status = std::to_string(http_status);
  auto& c = cache_["request|" + name + "|" + status];
  if (!c) c = &requests_family_.Add({{"operation", name}, {"code", status}});
  c->Increment();
  request_duration_[static_cast<size_t>(operation)]->Observe(seconds);
}

void Metrics::batch(Operation route, size_t recipients, size_t events) {
  if (auto* histogram = batch_recipients_[static_cast<size_t>(route)]) histogram->Observe(static_cast<double>(recipients));
  if (events > 1) coalesced_events_.Increment(static_cast<double>(events));
}

void Metrics::outcome(std::string_view operation, OutcomeStatus status) {
  std::string op(operation.empty() ? "unknown" : operation);
  std::string s(to_string(status));
  auto& c = cache_["outcome|" + op + "|" + s];
  if (!c) c = &outcomes_family_.Add({{"operation", op}, {"status", s}});
  c->Increment();
}

void Metrics::retry(const std::string& reason) {
  auto& c = cache_["retry|" + reason];
  if (!c) c = &retries_family_.Add({{"reason", reason}});
  c->Increment();
}

void Metrics::cooldown(const std::string& account) {
  auto& c = cache_["cooldown|" + account];
  if (!c) c = &cooldowns_family_.Add({{"account", account}});
  c->Increment();
}

Metrics::ConcurrencyGauges Metrics::concurrency_gauges(const std::string& account, const std::string& calls) {
  prometheus::Labels labels{{"account", account}, {"calls", calls}};
  // Each account's sends ask once, at start-up: its cool-down count starts at 0 (see above).
  if (calls == "send") {
    auto& cooldowns = cache_["cooldown|" + account];
    if (!cooldowns) cooldowns = &cooldowns_family_.Add({{"account", account}});
  }
  return {concurrency_limit_family_.Add(labels), calls_in_flight_family_.Add(labels),
          latency_baseline_family_.Add(labels)};
}

void Metrics::set_lag(const std::string& topic, int32_t partition, double lag) {
  std::lock_guard lock(lag_mutex_);
  lag_family_.Add({{"topic", topic}, {"partition", std::to_string(partition)}}).Set(lag);
}

void Metrics::status_check(std::string_view result) {
  std::lock_guard lock(status_mutex_);
  std::string key = std::string("check\0", 6).append(result);
  auto it = status_cache_.find(key);
  if (it == status_cache_.end())
    it = status_cache_.emplace(key, &status_checks_family_.Add({{"result", std::string(result)}})).first;
  it->second->Increment();
}

void Metrics::delivery_state(std::string_view operation, std::string_view state) {
  std::lock_guard lock(status_mutex_);
  std::string key = std::string(operation).append(1, '\0').append(state);
  auto it = status_cache_.find(key);
  if (it == status_cache_.end())
    it = status_cache_
             .emplace(key, &delivery_states_family_.Add({{"operation", std::string(operation)}, {"state", std::string(state)}}))
             .first;
  it->second->Increment();
}

}  // namespace sfmc
