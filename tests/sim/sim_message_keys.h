// messageKeys of accepted recipients. SFMC refuses a key reused within a
// window (2 days in current docs, 72 hours in older ones). Keys are pruned
// as the window passes them, on every claim, so memory follows the traffic
// of one window rather than of the whole run; a cap bounds it even when the
// window is long and the traffic heavy (benchmarks).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

#include "sim_types.h"

namespace sfmc::sim {

class MessageKeyRegistry {
 public:
  // window 0: keys are never released by time. max_keys 0: no cap.
  MessageKeyRegistry(std::chrono::seconds window, std::size_t max_keys);

  // True when the key was free and now belongs to the caller: never used,
  // or last used at least `window` before `now`. Atomic, so of two
  // concurrent requests with the same key exactly one wins.
  bool claim(const std::string& key, TimePoint now);
  void clear();

  std::size_t size() const;
  // Keys dropped by the cap while still inside their window: a later reuse
  // of one of them is accepted where SFMC would refuse it.
  std::uint64_t forgotten_early() const;

 private:
  using Entry = std::unordered_map<std::string, TimePoint>::value_type;

  // Both require mutex_.
  void prune(TimePoint now);
  void erase_front();

  std::chrono::seconds window_;
  std::size_t max_keys_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, TimePoint> claimed_at_;
  // Claim order. Points at the map's elements, whose addresses survive
  // rehashing; each element has exactly one entry here, because a key is
  // only claimed again after prune() has erased it.
  std::deque<const Entry*> order_;
  std::uint64_t forgotten_early_ = 0;
};

}  // namespace sfmc::sim
