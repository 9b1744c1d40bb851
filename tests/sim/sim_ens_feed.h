// The simulator speaks ENS: given a callback URL and a signature key, it
// POSTs signed batches of the events its transactional sends produce
// (SmsSent/EmailSent at once, SmsDelivered after `delivered_after`), as
// SFMC's Event Notification Service does: up to max_batch events a POST,
// three quick tries, then later again at growing intervals; and now and
// then a batch twice (ENS delivers at least once).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sim_status_store.h"
#include "sim_types.h"

namespace sfmc::sim {

struct EnsFeedStats {
  std::uint64_t posts = 0;       // POSTs answered 2xx
  std::uint64_t events = 0;      // events in those
  std::uint64_t failures = 0;    // POSTs not answered 2xx (each try)
  std::uint64_t repeats = 0;     // batches posted twice on purpose
  std::uint64_t pending = 0;     // events waiting to be posted

  EnsFeedStats& operator+=(const EnsFeedStats& other) {
    posts += other.posts;
    events += other.events;
    failures += other.failures;
    repeats += other.repeats;
    pending += other.pending;
    return *this;
  }
};

class EnsFeed {
 public:
  explicit EnsFeed(const EnsFeedOptions& options);
  ~EnsFeed();  // stops
  EnsFeed(const EnsFeed&) = delete;
  EnsFeed& operator=(const EnsFeed&) = delete;

  // Transactional recipients just accepted (by messageKey).
  void accepted(const std::vector<std::pair<std::string, MessageRecord>>& records);
  EnsFeedStats stats() const;

 private:
  struct Event {
    std::chrono::steady_clock::time_point due;
    std::string json;
  };
  struct Batch {
    std::chrono::steady_clock::time_point due;
    std::string body;
    size_t events = 0;
    int deferrals = 0;
  };
  void run();
  bool post(const std::string& body);

  const EnsFeedOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::deque<Event> now_;    // sent events, due at once
  std::deque<Event> later_;  // delivered events, due in order
  std::deque<Batch> retry_;  // failed three times: later
  EnsFeedStats stats_;
  std::mt19937_64 random_;
  std::thread thread_;
};

}  // namespace sfmc::sim
