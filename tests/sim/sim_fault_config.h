// What the simulator may do wrong on purpose, as a value: the faults JSON of
// PUT /_sim/faults and the --fault* flags both become a FaultConfig. The
// format is documented in README.md ("Faults").
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim_capacity.h"

namespace sfmc::sim {

// How one request fails. The JSON names are in parentheses.
enum class FaultKind {
  kStatus,        // ("500", "502", ...) any 4xx/5xx with SFMC's generic error body
  kThrottled,     // ("429") errorcode 50100, Retry-After header and retryAfter field
  kBlocked,       // ("429-blocked") errorcode 50200, no Retry-After
  kUnavailable,   // ("503") errorcode 50300 with Retry-After
  kUnauthorized,  // ("401") "Not Authorized", as for a revoked token
  kReset,         // ("reset") the connection is reset; no HTTP response at all
  kPartial,       // ("partial") status line, headers and half the body, then close (or stall)
  kTimeout,       // ("timeout") no response; the connection is held until the client gives up
};

struct FaultAction {
  FaultKind kind = FaultKind::kUnavailable;
  int status = 0;  // the HTTP status for kStatus; ignored otherwise

  friend bool operator==(const FaultAction&, const FaultAction&) = default;
};

// "503" → kUnavailable, "418" → kStatus 418, "reset" → kReset, ...; nullopt
// for anything else (statuses outside 400..599 included).
std::optional<FaultAction> parse_fault_name(std::string_view name);
std::string fault_name(const FaultAction& action);
// The HTTP status a fault answers with; 0 for the connection-level kinds.
int fault_status(const FaultAction& action);

struct FaultConfig {
  // Added to every faulted-route request, uniform in [min, max]; equal
  // bounds give a fixed delay.
  std::chrono::milliseconds latency_min{0};
  std::chrono::milliseconds latency_max{0};

  // Per-request probabilities, in order; their sum is at most 1.
  std::vector<std::pair<FaultAction, double>> rates;

  // Every request fails this way while set.
  std::optional<FaultAction> outage;

  // The next `fail_next_count` requests fail with `fail_next`, before any
  // rate is rolled (an outage still wins).
  int fail_next_count = 0;
  FaultAction fail_next;

  int retry_after_s = 5;                       // Retry-After / retryAfter of 429 and 503
  std::chrono::milliseconds stall{30000};      // how long "timeout" (and a stalling "partial") hold on
  bool partial_stalls = false;                 // "partial" holds the connection instead of closing it
  bool include_token_route = false;            // faults apply to POST /v2/token too
  std::optional<std::uint64_t> seed;           // reseeds the random source when set

  // How many sends may be in progress at once, over time; past it a send is
  // answered at once with 429 50200 (the capacity model, sim_capacity.h).
  CapacitySchedule capacity;

  bool injects_nothing() const {
    for (const auto& rate : rates) {
      if (rate.second > 0) return false;
    }
    return latency_max.count() == 0 && !outage && fail_next_count == 0 && capacity.unlimited();
  }
};

// Parses the faults JSON (README.md). On error returns nullopt and sets
// `error` to a sentence naming the offending member.
std::optional<FaultConfig> parse_fault_config(std::string_view json, std::string& error);
std::string fault_config_json(const FaultConfig& config);

}  // namespace sfmc::sim
