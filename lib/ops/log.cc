#include "ops/log.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

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
  str(message);
  for (const auto& [key, value] : fields) {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    str(value);
  }
  w.EndObject();
  std::lock_guard lock(mutex_);
  std::fprintf(stderr, "%s\n", buffer.GetString());
  std::fflush(stderr);
}

void Logger::kafka(int syslog_level, const std::string& facility, const std::string& message) {
  LogLevel level = syslog_level <= 3 ? LogLevel::Error : syslog_level == 4 ? LogLevel::Warning
                   : syslog_level <= 6 ? LogLevel::Info : LogLevel::Debug;
  log(level, message, {{"component", "librdkafka"}, {"facility", facility}});
}

}  // namespace sfmc
