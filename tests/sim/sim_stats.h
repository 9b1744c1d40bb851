// Counters behind GET /_sim/stats, so tests and the benchmark can check
// rates without reading every recorded request. Counting is lock-free on
// the request path (one relaxed atomic per request); faults, which are
// rarer and named, take a lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "sim_capacity.h"
#include "sim_ens_feed.h"

namespace sfmc::sim {

struct StatsSnapshot {
  // "POST /v2/token" → HTTP status → count; status 0: no HTTP response (an
  // injected reset, partial or timeout). Routes without requests are absent;
  // unknown paths count under "unmatched".
  std::map<std::string, std::map<int, std::uint64_t>> requests;
  std::uint64_t tokens_issued = 0;
  // Fault name ("503", "429-blocked", "reset", ...) → injections; "latency"
  // counts delayed requests, "expire_tokens" the forced expiries.
  std::map<std::string, std::uint64_t> faults;
  std::size_t message_keys = 0;  // remembered now
  std::uint64_t message_keys_forgotten_early = 0;
  std::size_t message_records = 0;   // for GET /messaging/v1/*/messages/{key}
  std::size_t delivery_records = 0;  // for GET /sms/v1/*/{id}/deliveries/{tokenId}
  // The capacity model: the capacity in force, the sends in progress, their
  // peak and the refusals (also counted in `faults` as "capacity").
  CapacityStats capacity;
  EnsFeedStats ens;  // all 0 without a feed

  // 0 when absent.
  std::uint64_t count(const std::string& route, int status) const;
  std::uint64_t fault_count(const std::string& name) const;
};

std::string stats_json(const StatsSnapshot& stats);

class SimStats {
 public:
  // `routes` names each route index; one more index counts unmatched paths.
  explicit SimStats(std::vector<std::string> routes = {});
  void set_routes(std::vector<std::string> routes);  // before any request is counted
  std::size_t unmatched_route() const { return routes_.size(); }

  void count_request(std::size_t route, int status);
  void count_token_issued() { tokens_issued_.fetch_add(1, std::memory_order_relaxed); }
  void count_fault(std::string_view name);
  void reset();

  // The request and fault counters; the caller adds the state sizes.
  StatsSnapshot snapshot() const;

 private:
  static constexpr int kStatusSlots = 600;  // statuses 0..599

  std::vector<std::string> routes_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> requests_;  // (routes + 1) × kStatusSlots
  std::atomic<std::uint64_t> tokens_issued_{0};
  mutable std::mutex faults_mutex_;
  std::map<std::string, std::uint64_t, std::less<>> faults_;
};

}  // namespace sfmc::sim
