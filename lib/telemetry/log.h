// One JSON object per line on stderr: journald and Kubernetes friendly.
#pragma once

#include <concepts>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace sfmc {

enum class LogLevel { Debug = 0, Info = 1, Warning = 2, Error = 3 };

std::optional<LogLevel> parse_log_level(std::string_view text);

// Phone numbers (7 or more digits, separators allowed) keep their last two
// digits; e-mail addresses keep the first character and the domain.
std::string mask_personal_data(std::string_view text);

// A field's value: text, or a number, which is written as a JSON number.
class LogValue {
 public:
  LogValue(std::string_view text) : value_(text) {}
  LogValue(const std::string& text) : value_(std::string_view(text)) {}
  LogValue(const char* text) : value_(std::string_view(text)) {}
  template <std::integral Number>
    requires(!std::same_as<Number, bool> && !std::same_as<Number, char>)
  LogValue(Number number) {
    if constexpr (std::is_signed_v<Number>)
      value_ = static_cast<int64_t>(number);
    else
      value_ = static_cast<uint64_t>(number);
  }
  const std::variant<std::string_view, int64_t, uint64_t>& value() const { return value_; }

 private:
  std::variant<std::string_view, int64_t, uint64_t> value_;
};

class Logger {
 public:
  using Fields = std::initializer_list<std::pair<std::string_view, LogValue>>;

  // `out`: stderr in the daemon; a test may read the lines back from a file.
  explicit Logger(LogLevel level = LogLevel::Info, std::FILE* out = stderr) : level_(level), out_(out) {}
  void set_level(LogLevel level) { level_ = level; }
  // Masks the message and the "error" and "event" fields (where event
  // content can appear). On by default.
  void set_masking(bool on) { mask_ = on; }
  bool enabled(LogLevel level) const { return level >= level_; }

  void log(LogLevel level, std::string_view message, Fields fields = {});
  void debug(std::string_view m, Fields f = {}) { log(LogLevel::Debug, m, f); }
  void info(std::string_view m, Fields f = {}) { log(LogLevel::Info, m, f); }
  void warn(std::string_view m, Fields f = {}) { log(LogLevel::Warning, m, f); }
  void error(std::string_view m, Fields f = {}) { log(LogLevel::Error, m, f); }

  // librdkafka's syslog-style levels (0..7) onto ours.
  void kafka(int syslog_level, const std::string& facility, const std::string& message);

 private:
  LogLevel level_;
  std::FILE* out_;
  bool mask_ = true;
  std::mutex mutex_;  // librdkafka logs from its own threads
};

}  // namespace sfmc
