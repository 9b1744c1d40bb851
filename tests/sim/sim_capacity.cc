#include "sim_capacity.h"

#include <algorithm>
#include <utility>

namespace sfmc::sim {
namespace {

std::string entry(std::size_t index) {
  return "capacity[" + std::to_string(index) + "]";
}

}  // namespace

CapacitySchedule CapacitySchedule::fixed(int calls) {
  CapacitySchedule schedule;
  if (calls > 0) schedule.phases.push_back(CapacityPhase{std::chrono::milliseconds(0), calls});
  return schedule;
}

bool CapacitySchedule::unlimited() const {
  return std::all_of(phases.begin(), phases.end(), [](const CapacityPhase& phase) { return phase.calls == 0; });
}

std::string capacity_schedule_error(const std::vector<CapacityPhase>& phases) {
  if (phases.empty()) return "capacity must list at least one phase, e.g. [{\"after_ms\":0,\"calls\":24}]";
  for (std::size_t i = 0; i < phases.size(); ++i) {
    if (phases[i].calls < 0) return entry(i) + ".calls must be a non-negative integer";
    if (i == 0 && phases[i].after.count() != 0) return entry(i) + ".after_ms must be 0";
    if (i > 0 && phases[i].after <= phases[i - 1].after) {
      return entry(i) + ".after_ms must be greater than " + entry(i - 1) + ".after_ms";
    }
  }
  return "";
}

int capacity_at(const CapacitySchedule& schedule, std::chrono::milliseconds elapsed) {
  if (schedule.phases.empty()) return 0;
  // The first phase holds from 0, and also before it (elapsed < 0 would be
  // a clock read just ahead of the applying one).
  int calls = schedule.phases.front().calls;
  for (const auto& phase : schedule.phases) {
    if (phase.after > elapsed) break;
    calls = phase.calls;
  }
  return calls;
}

CapacityGate::Permit::Permit(Permit&& other) noexcept : in_progress_(std::exchange(other.in_progress_, nullptr)) {}

CapacityGate::Permit& CapacityGate::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    if (in_progress_ != nullptr) in_progress_->fetch_sub(1, std::memory_order_acq_rel);
    in_progress_ = std::exchange(other.in_progress_, nullptr);
  }
  return *this;
}

CapacityGate::Permit::~Permit() {
  if (in_progress_ != nullptr) in_progress_->fetch_sub(1, std::memory_order_acq_rel);
}

CapacityGate::CapacityGate(CapacitySchedule schedule, Time applied_at) {
  configure(std::move(schedule), applied_at);
}

void CapacityGate::configure(CapacitySchedule schedule, Time applied_at) {
  std::lock_guard lock(mutex_);
  limited_.store(!schedule.unlimited(), std::memory_order_release);
  schedule_ = std::move(schedule);
  applied_at_ = applied_at;
}

int CapacityGate::capacity(Time now) const {
  if (!limited_.load(std::memory_order_acquire)) return 0;
  std::lock_guard lock(mutex_);
  return capacity_at(schedule_, std::chrono::duration_cast<std::chrono::milliseconds>(now - applied_at_));
}

std::optional<CapacityGate::Permit> CapacityGate::try_enter(Time now) {
  const int limit = capacity(now);
  std::int64_t current = in_progress_.load(std::memory_order_acquire);
  do {
    if (limit > 0 && current >= limit) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
  } while (!in_progress_.compare_exchange_weak(current, current + 1, std::memory_order_acq_rel));
  std::int64_t peak = peak_.load(std::memory_order_relaxed);
  while (current + 1 > peak && !peak_.compare_exchange_weak(peak, current + 1, std::memory_order_relaxed)) {
  }
  return Permit(in_progress_);
}

CapacityStats CapacityGate::stats(Time now) const {
  CapacityStats stats;
  stats.calls = capacity(now);
  stats.in_progress = in_progress_.load(std::memory_order_acquire);
  stats.peak_in_progress = peak_.load(std::memory_order_relaxed);
  stats.refused = refused_.load(std::memory_order_relaxed);
  return stats;
}

void CapacityGate::reset_stats() {
  refused_.store(0, std::memory_order_relaxed);
  peak_.store(in_progress_.load(std::memory_order_acquire), std::memory_order_relaxed);
}

}  // namespace sfmc::sim
