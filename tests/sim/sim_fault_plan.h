// Decides, per request, what goes wrong: pure logic over a FaultConfig and a
// seeded random source, so tests can assert exact sequences without HTTP.
// The HTTP glue (sim_server.cc, sim_connection.h) carries the decision out.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>

#include "sim_capacity.h"
#include "sim_fault_config.h"

namespace sfmc::sim {

// Which faults a route is subject to.
enum class FaultScope {
  kNone,   // never faulted (/_sim/, status lookups)
  kSend,   // the five REST send routes
  kToken,  // POST /v2/token, only with include_token_route
};

struct FaultDecision {
  std::chrono::milliseconds delay{0};  // wait this long first
  std::optional<FaultAction> action;   // then fail like this; nullopt: serve normally
  // How, copied from the config so the caller needs no second look at it.
  int retry_after_s = 0;
  std::chrono::milliseconds stall{0};
  bool partial_stalls = false;

  friend bool operator==(const FaultDecision&, const FaultDecision&) = default;
};

class FaultPlan {
 public:
  // `default_seed` seeds the random source when the config names no seed;
  // 0 means std::random_device.
  explicit FaultPlan(FaultConfig config = {}, std::uint64_t default_seed = 0);

  // Replaces the config. Reseeds when it names a seed; otherwise the random
  // sequence continues where it was.
  void configure(FaultConfig config);
  // The config in force; fail_next_count is what is left of it.
  FaultConfig config() const;

  FaultDecision decide(FaultScope scope);

  // The capacity model of the config in force; configure() restarts its
  // schedule's clock. A send takes a permit before decide(): one refused
  // rolls no fault.
  CapacityGate& capacity() { return capacity_; }
  const CapacityGate& capacity() const { return capacity_; }

 private:
  CapacityGate capacity_;
  mutable std::mutex mutex_;
  FaultConfig config_;
  std::mt19937_64 engine_;
  // Lets decide() skip the lock on the common path: nothing configured.
  std::atomic<bool> idle_{true};
};

}  // namespace sfmc::sim
