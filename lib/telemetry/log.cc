#include "telemetry/log.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace sfmc {

std::optional<LogLevel> parse_log_level(std::string_view text) {
  if (text == "debug") return LogLevel::Debug;
  if (text == "info") return LogLevel::Info;
  if (text == "warning" || text == "warn") return LogLevel::Warning;
  if (text == "error") return LogLevel::Error;
  return std::nullopt;
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_phone_separator(char c) { return c == '-' || c == ' ' || c == '(' || c == ')' || c == '.'; }
bool is_local_part(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool is_domain(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-'; }

}  // namespace

std::string mask_personal_data(std::string_view text) {
  std::string out(text);
  // E-mail addresses: a***@domain.
  for (size_t at = out.find('@'); at != std::string::npos; at = out.find('@', at + 1)) {
    size_t begin = at;
    while (begin > 0 && is_local_part(out[begin - 1])) --begin;
    size_t end = at + 1;
    while (end < out.size() && is_domain(out[end])) ++end;
    if (at - begin < 1 || out.find('.', at) >= end) continue;
    out.replace(begin + 1, at - begin - 1, "***");
    at = begin + 4;
  }
  // Phone numbers: a run of digits and separators with at least 7 digits.
  for (size_t i = 0; i < out.size();) {
    if (!is_digit(out[i]) || (i > 0 && (std::isalnum(static_cast<unsigned char>(out[i - 1])) || out[i - 1] == '*'))) {
      ++i;
      continue;
    }
    size_t end = i, digits = 0, last_digit = i;
    while (end < out.size() && (is_digit(out[end]) || is_phone_separator(out[end]))) {
      if (is_digit(out[end])) {
        ++digits;
        last_digit = end;
      }
      ++end;
    }
    if (digits >= 7) {
      size_t kept = 0;
      for (size_t j = last_digit + 1; j-- > i;) {
        if (!is_digit(out[j])) continue;
        if (kept++ >= 2) out[j] = '*';
      }
    }
    i = last_digit + 1;
  }
  return out;
}

namespace {

template <typename... Visitors>
struct Overloaded : Visitors... {
  using Visitors::operator()...;
};
template <typename... Visitors>
Overloaded(Visitors...) -> Overloaded<Visitors...>;  // Clang 14 does not deduce aggregates yet (the fuzz build)

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warning: return "warning";
    case LogLevel::Error: return "error";
  }
  return "info";
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto seconds = std::chrono::system_clock::to_time_t(now);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(millis));
  return text;
}

}  // namespace

void Logger::log(LogLevel level, std::string_view message, Fields fields) {
  if (!enabled(level)) return;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto str = [&](std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
  w.StartObject();
  w.Key("ts");
  str(timestamp());
  w.Key("level");
  w.String(level_name(level));
  w.Key("msg");
  str(mask_ ? mask_personal_data(message) : std::string(message));
  for (const auto& [key, value] : fields) {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    bool personal = mask_ && (key == "error" || key == "event");
    std::visit(Overloaded{[&](std::string_view s) { str(personal ? mask_personal_data(s) : std::string(s)); },
                          [&](int64_t n) { w.Int64(n); }, [&](uint64_t n) { w.Uint64(n); }},
               value.value());
  }
  w.EndObject();
  std::lock_guard lock(mutex_);
  std::fprintf(out_, "%s\n", buffer.GetString());
  std::fflush(out_);
}

void Logger::kafka(int syslog_level, const std::string& facility, const std::string& message) {
  LogLevel level = syslog_level <= 3 ? LogLevel::Error : syslog_level == 4 ? LogLevel::Warning
                   : syslog_level <= 6 ? LogLevel::Info : LogLevel::Debug;
  log(level, message, {{"component", "librdkafka"}, {"facility", facility}});
}

}  // namespace sfmc
