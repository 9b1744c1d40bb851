// A dependency's outage in the log: a warning when it starts, another every
// kRepeat while it lasts, and one line when it ends. Callers report every
// failure and every answer; the rate limit lives here.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "telemetry/log.h"

namespace sfmc {

class OutageLog {
 public:
  // Two lines a minute: a long outage stays visible in any recent stretch
  // of the log without flooding it.
  static constexpr std::chrono::seconds kRepeat{30};

  // `subject` names the dependency in the lines: "Kafka brokers".
  OutageLog(Logger& log, std::string subject) : log_(log), subject_(std::move(subject)) {}

  // A failure at `now`, for `error`; `retry_in`: when the caller tries again,
  // if it decides that.
  void down(Clock::time_point now, std::string_view error, std::optional<Clock::duration> retry_in = std::nullopt);
  // An answer at `now`: ends the outage, if there is one.
  void up(Clock::time_point now);

 private:
  Logger& log_;
  std::string subject_;
  std::optional<Clock::time_point> since_;  // the outage's first failure
  Clock::time_point last_line_{};
};

}  // namespace sfmc
