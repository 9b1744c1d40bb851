#include "sim_message_keys.h"

namespace sfmc::sim {

MessageKeyRegistry::MessageKeyRegistry(std::chrono::seconds window, std::size_t max_keys)
    : window_(window), max_keys_(max_keys) {}

void MessageKeyRegistry::erase_front() {
  // By iterator: erasing by a key that lives in the erased node is not safe.
  claimed_at_.erase(claimed_at_.find(order_.front()->first));
  order_.pop_front();
}

void MessageKeyRegistry::prune(TimePoint now) {
  if (window_.count() <= 0) return;
  // The front is the oldest claim unless the clock stepped back; stopping at
  // the first live key then only delays pruning, it never loses a key.
  while (!order_.empty() && now - order_.front()->second >= window_) {
    erase_front();
  }
}

bool MessageKeyRegistry::claim(const std::string& key, TimePoint now) {
  std::lock_guard lock(mutex_);
  prune(now);
  const auto [entry, inserted] = claimed_at_.try_emplace(key, now);
  if (inserted) {
    order_.push_back(&*entry);
    if (max_keys_ > 0 && order_.size() > max_keys_) {
      const Entry* oldest = order_.front();
      if (window_.count() <= 0 || now - oldest->second < window_) ++forgotten_early_;
      erase_front();
    }
    return true;
  }
  if (window_.count() > 0 && now - entry->second >= window_) {
    entry->second = now;  // aged out, but not yet pruned (the clock stepped back)
    return true;
  }
  return false;
}

void MessageKeyRegistry::clear() {
  std::lock_guard lock(mutex_);
  order_.clear();
  claimed_at_.clear();
}

std::size_t MessageKeyRegistry::size() const {
  std::lock_guard lock(mutex_);
  return claimed_at_.size();
}

std::uint64_t MessageKeyRegistry::forgotten_early() const {
  std::lock_guard lock(mutex_);
  return forgotten_early_;
}

}  // namespace sfmc::sim
