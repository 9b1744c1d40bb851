// What /healthz and /readyz report, written by the engine's thread and read
// by the admin server's.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace sfmc {

struct Health {
  std::atomic<int64_t> last_turn_ms{0};  // steady clock, when the loop last turned
  std::atomic<bool> assigned{false};     // joined the group, partitions assigned
  std::atomic<bool> tokens{false};       // every account holds a usable token
  std::atomic<bool> brokers_up{false};   // librdkafka reaches the cluster
  std::atomic<bool> assignment_refused{false};  // librdkafka refused the group's last assignment

  // Why the brokers are unreachable (a refused password, an untrusted
  // certificate), for /readyz; empty when they answer or nobody knows.
  void set_kafka_problem(std::string problem) {
    std::lock_guard lock(mutex_);
    kafka_problem_ = std::move(problem);
  }
  std::string kafka_problem() const {
    std::lock_guard lock(mutex_);
    return kafka_problem_;
  }

  static int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  bool alive(int64_t max_silence_ms = 10000) const { return now_ms() - last_turn_ms.load() < max_silence_ms; }
  bool ready() const { return alive() && assigned && tokens && brokers_up && !assignment_refused; }

 private:
  mutable std::mutex mutex_;
  std::string kafka_problem_;
};

}  // namespace sfmc
