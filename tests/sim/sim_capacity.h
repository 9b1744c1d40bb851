// The capacity model: how many send calls SFMC takes at once before its
// per-tenant throttle answers 429 50200 "temporarily blocked". A schedule
// lets one run change the capacity, so a client's adaptive concurrency
// limiter can be watched finding it, following a rise and backing off after
// a fall. README.md ("Capacity model") describes it for users.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sfmc::sim {

// From `after` (counted from when the faults were applied) on, at most
// `calls` sends may be in progress; 0: no limit.
struct CapacityPhase {
  std::chrono::milliseconds after{0};
  int calls = 0;

  friend bool operator==(const CapacityPhase&, const CapacityPhase&) = default;
};

struct CapacitySchedule {
  // In increasing `after`, the first at 0; empty: no limit.
  std::vector<CapacityPhase> phases;
  // Given as a schedule (a JSON array) rather than a number, so it is
  // written back in the form it came in.
  bool scheduled = false;

  static CapacitySchedule fixed(int calls);  // 0: no limit
  bool unlimited() const;                    // no phase limits anything

  friend bool operator==(const CapacitySchedule&, const CapacitySchedule&) = default;
};

// "" when the phases are a valid schedule, else a sentence naming the first
// wrong entry ("capacity[1].after_ms must be greater than ...").
std::string capacity_schedule_error(const std::vector<CapacityPhase>& phases);

// The capacity in force `elapsed` after the schedule was applied (0: no
// limit). Pure, so the schedule is tested without waiting.
int capacity_at(const CapacitySchedule& schedule, std::chrono::milliseconds elapsed);

// What GET /_sim/stats reports under "capacity".
struct CapacityStats {
  int calls = 0;  // the capacity in force; 0: no limit
  std::int64_t in_progress = 0;
  std::int64_t peak_in_progress = 0;  // since start or the last reset
  std::uint64_t refused = 0;          // since start or the last reset

  friend bool operator==(const CapacityStats&, const CapacityStats&) = default;
};

// Admits send calls while fewer than the capacity in force are in progress.
// The count is exact under concurrency (atomics, compare-and-swap); the
// schedule, which changes only on configure(), sits behind a mutex that
// the common case (no limit) never takes.
class CapacityGate {
 public:
  using Time = std::chrono::steady_clock::time_point;

  // One admitted call; leaving its scope, by any path, ends the call.
  class Permit {
   public:
    Permit(Permit&& other) noexcept;
    Permit& operator=(Permit&& other) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit();

   private:
    friend class CapacityGate;
    explicit Permit(std::atomic<std::int64_t>& in_progress) : in_progress_(&in_progress) {}
    std::atomic<std::int64_t>* in_progress_;
  };

  explicit CapacityGate(CapacitySchedule schedule = {}, Time applied_at = std::chrono::steady_clock::now());
  CapacityGate(const CapacityGate&) = delete;
  CapacityGate& operator=(const CapacityGate&) = delete;

  // Replaces the schedule; its times count from `applied_at`. The calls in
  // progress stay counted.
  void configure(CapacitySchedule schedule, Time applied_at);
  int capacity(Time now) const;  // 0: no limit

  // A permit when fewer calls than the capacity at `now` are in progress;
  // nullopt (counted as refused) otherwise. A refused call is not in
  // progress.
  std::optional<Permit> try_enter(Time now);

  CapacityStats stats(Time now) const;
  // Zeroes the refusals and restarts the peak from the calls in progress
  // (0 when idle); the calls in progress are not a counter.
  void reset_stats();

 private:
  mutable std::mutex mutex_;
  CapacitySchedule schedule_;
  Time applied_at_;
  std::atomic<bool> limited_{false};  // lets capacity() skip the lock when nothing limits

  std::atomic<std::int64_t> in_progress_{0};
  std::atomic<std::int64_t> peak_{0};
  std::atomic<std::uint64_t> refused_{0};
};

}  // namespace sfmc::sim
