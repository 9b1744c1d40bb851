#include "sim_fault_plan.h"

#include <utility>

namespace sfmc::sim {
namespace {

std::uint64_t resolve_seed(std::optional<std::uint64_t> configured, std::uint64_t fallback) {
  if (configured) return *configured;
  if (fallback != 0) return fallback;
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

}  // namespace

FaultPlan::FaultPlan(FaultConfig config, std::uint64_t default_seed)
    : capacity_(config.capacity, std::chrono::steady_clock::now()),
      config_(std::move(config)),
      engine_(resolve_seed(config_.seed, default_seed)),
      idle_(config_.injects_nothing()) {}

void FaultPlan::configure(FaultConfig config) {
  std::lock_guard lock(mutex_);
  capacity_.configure(config.capacity, std::chrono::steady_clock::now());
  if (config.seed) engine_.seed(*config.seed);
  config_ = std::move(config);
  idle_ = config_.injects_nothing();
}

FaultConfig FaultPlan::config() const {
  std::lock_guard lock(mutex_);
  return config_;
}

FaultDecision FaultPlan::decide(FaultScope scope) {
  if (scope == FaultScope::kNone || idle_.load(std::memory_order_relaxed)) return {};
  std::lock_guard lock(mutex_);
  if (scope == FaultScope::kToken && !config_.include_token_route) return {};

  FaultDecision decision;
  if (config_.latency_max > config_.latency_min) {
    std::uniform_int_distribution<std::int64_t> pick(config_.latency_min.count(), config_.latency_max.count());
    decision.delay = std::chrono::milliseconds(pick(engine_));
  } else {
    decision.delay = config_.latency_min;
  }

  decision.retry_after_s = config_.retry_after_s;
  decision.stall = config_.stall;
  decision.partial_stalls = config_.partial_stalls;
  if (config_.outage) {
    decision.action = config_.outage;
  } else if (config_.fail_next_count > 0) {
    decision.action = config_.fail_next;
    if (--config_.fail_next_count == 0) idle_ = config_.injects_nothing();
  } else if (!config_.rates.empty()) {
    // One roll per request, walked through the rates in order, so a seed
    // gives the same sequence whatever the probabilities are.
    const double roll = std::uniform_real_distribution<double>(0.0, 1.0)(engine_);
    double upper = 0;
    for (const auto& [action, probability] : config_.rates) {
      upper += probability;
      if (roll < upper) {
        decision.action = action;
        break;
      }
    }
  }
  return decision;
}

}  // namespace sfmc::sim
