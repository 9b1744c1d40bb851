#include "core/civil_time.h"

#include <chrono>

namespace sfmc {

namespace {

namespace chr = std::chrono;

// Reads `count` digits at `pos`; -1 when any is not a digit.
int digits(std::string_view s, size_t pos, size_t count) {
  if (pos + count > s.size()) return -1;
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    value = value * 10 + (s[i] - '0');
  }
  return value;
}

// `width` decimal digits of `value` at `at`.
void write_digits(char* at, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i, value /= 10) at[i] = static_cast<char>('0' + value % 10);
}

}  // namespace

int64_t unix_ms_now() {
  return chr::duration_cast<chr::milliseconds>(chr::system_clock::now().time_since_epoch()).count();
}

std::optional<int64_t> parse_civil_ms(std::string_view s, std::string_view zone, size_t max_fraction) {
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return {};
  const int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  const int h = digits(s, 11, 2), mi = digits(s, 14, 2), sec = digits(s, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return {};
  const chr::year_month_day ymd{chr::year(y), chr::month(static_cast<unsigned>(mo)), chr::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return {};
  size_t pos = 19;
  int64_t ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    size_t end = ++pos;
    while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
    if (end == pos || end - pos > max_fraction) return {};
    for (size_t i = 0; i < 3; ++i) ms = ms * 10 + (pos + i < end ? s[pos + i] - '0' : 0);
    pos = end;
  }
  if (s.substr(pos) != zone) return {};
  const auto time = chr::sys_days(ymd) + chr::hours(h) + chr::minutes(mi) + chr::seconds(sec);
  return chr::duration_cast<chr::milliseconds>(time.time_since_epoch()).count() + ms;
}

// Written by hand: snprintf was a tenth of what a status check cost the
// send path (perf).
std::string rfc3339_ms(int64_t unix_ms) {
  if (unix_ms < -62167219200000 || unix_ms >= kYear10000Ms) return "0000-01-01T00:00:00.000Z";
  const chr::sys_time<chr::milliseconds> time{chr::milliseconds(unix_ms)};
  const auto day = chr::floor<chr::days>(time);
  const chr::year_month_day ymd{day};
  const chr::hh_mm_ss<chr::milliseconds> hms{time - day};
  char text[] = "YYYY-MM-DDTHH:MM:SS.mmmZ";
  write_digits(text, static_cast<unsigned>(static_cast<int>(ymd.year())), 4);
  write_digits(text + 5, static_cast<unsigned>(ymd.month()), 2);
  write_digits(text + 8, static_cast<unsigned>(ymd.day()), 2);
  write_digits(text + 11, static_cast<unsigned>(hms.hours().count()), 2);
  write_digits(text + 14, static_cast<unsigned>(hms.minutes().count()), 2);
  write_digits(text + 17, static_cast<unsigned>(hms.seconds().count()), 2);
  write_digits(text + 20, static_cast<unsigned>(hms.subseconds().count()), 3);
  return {text, sizeof text - 1};
}

}  // namespace sfmc
