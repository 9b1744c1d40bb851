#include "sfmc/concurrency_limiter.h"

#include <algorithm>
#include <cmath>

namespace sfmc {

ConcurrencyLimiter::ConcurrencyLimiter(ConcurrencyOptions options, Clock& clock) : options_(options), clock_(clock) {
  options_.max = std::max<size_t>(1, options_.max);
  limit_ = std::clamp<size_t>(options_.fixed > 0 ? options_.fixed : options_.initial, 1, options_.max);
  step_ = limit_;  // until the first cut the limit doubles a window (slow start)
}

ConcurrencyLimiter::Answer ConcurrencyLimiter::answer_for(int status) {
  if (status == 0 || status == 408 || status == 429 || status == 503 || status == 504) return Answer::BackPressure;
  if (status == 401 || status >= 500) return Answer::Ignored;
  return Answer::Clean;
}

ConcurrencyLimiter::Ticket ConcurrencyLimiter::started() {
  ++in_flight_;
  return {next_sequence_++, clock_.now()};
}

std::optional<double> ConcurrencyLimiter::baseline_seconds() const { return mean_; }

void ConcurrencyLimiter::finished(const Ticket& ticket, Answer answer) {
  if (in_flight_ > 0) --in_flight_;
  auto now = clock_.now();
  if (answer == Answer::BackPressure) {
    back_pressure_ = true;
    if (ticket.sequence >= cut_sequence_) cut();
    return;
  }
  if (answer == Answer::Clean) {
    window_sum_ += std::chrono::duration<double>(now - ticket.started).count();
    ++window_count_;
  }
  if (window_count_ > 0 && (!window_end_ || now >= *window_end_)) end_window(now);
}

void ConcurrencyLimiter::cut() {
  cut_sequence_ = next_sequence_;
  if (!adaptive()) return;
  cut_at_ = limit_;
  auto kept = static_cast<size_t>(std::floor(static_cast<double>(limit_) * options_.decrease_ratio));
  limit_ = std::max<size_t>(1, std::min(kept, limit_ >= 2 ? limit_ - 2 : 0));
  step_ = 1;
}

void ConcurrencyLimiter::end_window(Clock::time_point now) {
  double latency = window_sum_ / static_cast<double>(window_count_);
  if (!back_pressure_) {
    bool slow = mean_ && latency > std::max(*mean_ * options_.rtt_tolerance,
                                            *mean_ + options_.rtt_deviation_scale * std::sqrt(variance_));
    if (slow) {
      cut();
    } else if (reached_limit_ && adaptive() && limit_ < options_.max) {
      if (limit_ >= cut_at_) {  // past the last trouble: new ground, growing faster each window
        limit_ = std::min(options_.max, limit_ + step_);
        step_ *= 2;
      } else {
        limit_ += 1;
      }
    }
  }
  // Vector's EWMA of the mean and its variance.
  if (!mean_) {
    mean_ = latency;
  } else {
    double diff = latency - *mean_;
    double increment = options_.ewma_alpha * diff;
    *mean_ += increment;
    variance_ = (1 - options_.ewma_alpha) * (variance_ + diff * increment);
  }
  window_end_ = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*mean_));
  window_sum_ = 0;
  window_count_ = 0;
  reached_limit_ = false;
  back_pressure_ = false;
}

}  // namespace sfmc
