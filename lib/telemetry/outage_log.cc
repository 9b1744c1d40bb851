#include "telemetry/outage_log.h"

#include <cstdio>

namespace sfmc {

namespace {

std::string seconds(Clock::duration d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", std::chrono::duration<double>(d).count());
  return text;
}

}  // namespace

void OutageLog::down(Clock::time_point now, std::string_view error, std::optional<Clock::duration> retry_in) {
  const bool starts = !since_;
  if (!starts && now - last_line_ < kRepeat) return;
  if (starts) since_ = now;
  last_line_ = now;
  std::string message = subject_ + (starts ? " unreachable" : " still unreachable after " + seconds(now - *since_));
  if (retry_in) message += "; next try in " + seconds(*retry_in);
  log_.warn(message, {{"error", error}});
}

void OutageLog::up(Clock::time_point now) {
  if (!since_) return;
  log_.info(subject_ + " reachable again after " + seconds(now - *since_));
  since_.reset();
}

}  // namespace sfmc
