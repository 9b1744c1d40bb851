// A token bucket: at most `rate` requests per second on average, bursts of
// up to `burst`. rate <= 0 means unlimited.
#pragma once

#include <algorithm>
#include <chrono>

#include "core/clock.h"

namespace sfmc {

class TokenBucket {
 public:
  TokenBucket(double rate = 0, double burst = 1) : rate_(rate), burst_(std::max(1.0, burst)), tokens_(burst_) {}

  bool try_take(Clock::time_point now) {
    if (rate_ <= 0) return true;
    refill(now);
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

  // When the next request may go (now, when one is available).
  Clock::time_point next_available(Clock::time_point now) {
    if (rate_ <= 0) return now;
    refill(now);
    if (tokens_ >= 1) return now;
    auto wait = std::chrono::duration<double>((1 - tokens_) / rate_);
    return now + std::chrono::ceil<std::chrono::microseconds>(wait);
  }

 private:
  void refill(Clock::time_point now) {
    if (last_ != Clock::time_point{}) {
      double elapsed = std::chrono::duration<double>(now - last_).count();
      tokens_ = std::min(burst_, tokens_ + std::max(0.0, elapsed) * rate_);
    }
    last_ = now;
  }

  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_{};
};

}  // namespace sfmc
