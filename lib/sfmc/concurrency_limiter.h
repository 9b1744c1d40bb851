// How many calls one SFMC account may have in flight, learnt from SFMC's
// answers (adaptive request concurrency). SFMC publishes no concurrency
// limit: it throttles per tenant, and past its limit answers 429 50200
// ("temporarily blocked"). So the limit is found, not configured.
//
// AIMD, after Vector's Adaptive Request Concurrency (RFC 1858): answers are
// grouped in windows of one baseline round trip. A window that ends with
// clean answers at the usual latency, while calls waited for room, raises
// the limit; back-pressure (429, 503, 504, 408, no answer) cuts it at once,
// and so does a window whose mean latency is clearly above the baseline
// (an EWMA of past windows' means, with its deviation; "clearly": past
// both the deviation times `rtt_deviation_scale`, as Vector, and
// `rtt_tolerance` times the baseline, as Netflix's Gradient2).
//
// Two changes to Vector's rules, both for a limit that moves:
// - A cut answers one round of calls: back-pressure on a call that started
//   before the last cut cuts no further (the cut had not reached it yet).
// - Growth is +1 a window up to where the last cut happened, then doubles
//   its step each window past it (a limit that is clean beyond its last
//   trouble is in new ground: the tenant's capacity grew); a cut resets
//   the step. Near a steady capacity this is plain AIMD, and from the
//   start it is TCP's slow start.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/clock.h"

namespace sfmc {

struct ConcurrencyOptions {
  size_t max = 64;     // the ceiling: the transport's connections
  size_t fixed = 0;    // > 0: a pinned limit (capped at max), nothing learnt
  size_t initial = 8;  // capped at max
  double decrease_ratio = 0.9;      // a cut keeps this share (and drops at least 2)
  double ewma_alpha = 0.4;          // weight of the latest window in the baseline
  double rtt_deviation_scale = 2.5;
  double rtt_tolerance = 1.5;       // a window's mean above baseline x this is queueing
};

class ConcurrencyLimiter {
 public:
  // How an answer reads, for the limit.
  enum class Answer {
    Clean,         // an answer on time (2xx, 4xx but 408/429): its latency counts
    BackPressure,  // 429, 503, 504, 408, a timeout, no connection
    Ignored,       // says nothing of load (401, other 5xx)
  };
  struct Ticket {
    uint64_t sequence = 0;
    Clock::time_point started{};
  };

  // What an HTTP status (0: no answer) says of SFMC's load.
  static Answer answer_for(int http_status);

  ConcurrencyLimiter(ConcurrencyOptions options, Clock& clock);

  bool has_room() const { return in_flight_ < limit_; }
  // A call could not start for want of room: demand is past the limit, so
  // a clean window may raise it.
  void held() { reached_limit_ = true; }
  Ticket started();
  void finished(const Ticket& ticket, Answer answer);

  size_t limit() const { return limit_; }
  size_t in_flight() const { return in_flight_; }
  bool adaptive() const { return options_.fixed == 0; }
  // Mean latency of past windows (seconds); nullopt before the first.
  std::optional<double> baseline_seconds() const;

 private:
  void cut();
  void end_window(Clock::time_point now);

  ConcurrencyOptions options_;
  Clock& clock_;
  size_t limit_;
  size_t in_flight_ = 0;
  uint64_t next_sequence_ = 0;
  uint64_t cut_sequence_ = 0;  // calls from this one on started after the last cut
  size_t cut_at_ = 0;          // the limit when the last cut happened (0: none yet)
  size_t step_ = 1;
  // The window: answers since it opened.
  std::optional<Clock::time_point> window_end_;  // nullopt: ends at its first clean answer
  double window_sum_ = 0;
  size_t window_count_ = 0;
  bool reached_limit_ = false;
  bool back_pressure_ = false;
  // The baseline: EWMA of windows' mean latency, and of its variance.
  std::optional<double> mean_;
  double variance_ = 0;
};

}  // namespace sfmc
