// What /healthz and /readyz report, written by the engine's thread and read
// by the admin server's.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace sfmc {

struct Health {
  std::atomic<int64_t> last_turn_ms{0};  // steady clock, when the loop last turned
  std::atomic<bool> assigned{false};     // joined the group, partitions assigned
  std::atomic<bool> tokens{false};       // every account holds a usable token
  std::atomic<bool> brokers_up{false};   // librdkafka reaches the cluster
  std::atomic<bool> assignment_refused{false};  // librdkafka refused the group's last assignment

  static int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  bool alive(int64_t max_silence_ms = 10000) const { return now_ms() - last_turn_ms.load() < max_silence_ms; }
  bool ready() const { return alive() && assigned && tokens && brokers_up && !assignment_refused; }
};

}  // namespace sfmc
