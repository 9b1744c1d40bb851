// The relay's Prometheus metrics (prefix sfmc_relay_), label sets resolved
// once. Labels stay low-cardinality: operations, statuses, reasons,
// configured accounts and assigned partitions, never event data.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/event.h"

namespace sfmc {

class Metrics {
 public:
  Metrics(prometheus::Registry& registry, std::string_view version);

  void event_consumed() { events_consumed_.Increment(); }
  // reason: not_json, too_large, too_deep, envelope, body, rule, account
  void invalid_event(const std::string& reason);
  void request(Operation operation, int http_status, double seconds);
  // One call of a Transactional route with `recipients` recipients, made of
  // `events` events (more than one: merged).
  void batch(Operation route, size_t recipients, size_t events);
  void outcome(std::string_view operation, OutcomeStatus status);
  // An invalid, rejected or failed event written to the dead-letter topic.
  void dead_letter(OutcomeStatus status) {
    auto& counter = status == OutcomeStatus::Invalid ? dead_invalid_
                    : status == OutcomeStatus::Rejected ? dead_rejected_
                                                        : dead_failed_;
    counter.Increment();
  }
  // reason: throttled, blocked, server_error, network, unauthorized
  void retry(const std::string& reason);
  void token_request(bool ok) { (ok ? token_ok_ : token_error_).Increment(); }
  void cooldown(const std::string& account);
  // An account's concurrency limit, its calls in flight and its latency
  // baseline, for its sends or its status lookups (`calls`). The sends' call
  // (once per account, at start-up) also creates its cool-down count at 0.
  struct ConcurrencyGauges {
    prometheus::Gauge& limit;
    prometheus::Gauge& in_flight;
    prometheus::Gauge& baseline;
    // The baseline stays unset until there is one.
    void set(size_t limit_now, size_t in_flight_now, std::optional<double> baseline_s) {
      limit.Set(static_cast<double>(limit_now));
      in_flight.Set(static_cast<double>(in_flight_now));
      if (baseline_s) baseline.Set(*baseline_s);
    }
  };
  ConcurrencyGauges concurrency_gauges(const std::string& account, const std::string& calls);
  void assignment_lost() { assignments_lost_.Increment(); }
  void set_in_flight(double n) { in_flight_.Set(n); }
  void set_window(double n) { window_.Set(n); }
  void set_paused_partitions(double n) { paused_partitions_.Set(n); }
  void set_lag(const std::string& topic, int32_t partition, double lag);
  void end_to_end(double seconds) { end_to_end_.Observe(seconds); }
  // Exactly-once mode: a Kafka transaction ended (committed or aborted), and
  // how long a commit took (offsets sent, records flushed, committed).
  void transaction(bool committed) { (committed ? transactions_committed_ : transactions_aborted_).Increment(); }
  void transaction_commit(double seconds) { transaction_commit_.Observe(seconds); }
  // Delivery status follow-up (its own thread): a lookup's result (final,
  // pending, retry, dropped), the states lookups found by operation, how late
  // the oldest due lookup is, and how many wait in memory.
  void status_check(std::string_view result);
  void delivery_state(std::string_view operation, std::string_view state);
  void set_followup_lag(double seconds) { followup_lag_.Set(seconds); }
  void set_status_held(double n) { status_held_.Set(n); }

 private:
  prometheus::Counter& events_consumed_;
  prometheus::Family<prometheus::Counter>& invalid_family_;
  prometheus::Family<prometheus::Counter>& requests_family_;
  std::array<prometheus::Histogram*, 5> request_duration_{};  // by Operation
  std::array<prometheus::Histogram*, 5> batch_recipients_{};  // by Operation
  prometheus::Counter& coalesced_events_;
  prometheus::Family<prometheus::Counter>& outcomes_family_;
  prometheus::Family<prometheus::Counter>& dead_letters_family_;
  prometheus::Counter& dead_invalid_;
  prometheus::Counter& dead_rejected_;
  prometheus::Counter& dead_failed_;
  prometheus::Family<prometheus::Counter>& retries_family_;
  prometheus::Family<prometheus::Counter>& token_family_;
  prometheus::Counter& token_ok_;
  prometheus::Counter& token_error_;
  prometheus::Family<prometheus::Counter>& cooldowns_family_;
  prometheus::Family<prometheus::Gauge>& concurrency_limit_family_;
  prometheus::Family<prometheus::Gauge>& calls_in_flight_family_;
  prometheus::Family<prometheus::Gauge>& latency_baseline_family_;
  prometheus::Counter& assignments_lost_;
  prometheus::Gauge& in_flight_;
  prometheus::Gauge& window_;
  prometheus::Gauge& paused_partitions_;
  prometheus::Family<prometheus::Gauge>& lag_family_;
  prometheus::Histogram& end_to_end_;
  prometheus::Counter& transactions_committed_;
  prometheus::Counter& transactions_aborted_;
  prometheus::Histogram& transaction_commit_;
  prometheus::Family<prometheus::Counter>& status_checks_family_;
  prometheus::Family<prometheus::Counter>& delivery_states_family_;
  prometheus::Gauge& followup_lag_;
  prometheus::Gauge& status_held_;
  std::map<std::string, prometheus::Counter*, std::less<>> status_cache_;
  std::mutex status_mutex_;  // the follow-up runs on a thread of its own
  // Counters by label value, resolved on first use (values are bounded).
  std::map<std::string, prometheus::Counter*> cache_;
  std::mutex lag_mutex_;  // lag arrives on librdkafka's statistics thread
};

}  // namespace sfmc
