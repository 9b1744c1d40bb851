// One JSON object per line on stderr: journald and Kubernetes friendly.
#pragma once

#include <cstdio>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace sfmc {

enum class LogLevel { Debug = 0, Info = 1, Warning = 2, Error = 3 };

std::optional<LogLevel> parse_log_level(std::string_view text);

// Phone numbers (7 or more digits, separators allowed) keep their last two
// digits; e-mail addresses keep the first character and the domain.
std::string mask_personal_data(std::string_view text);

class Logger {
 public:
  using Fields = std::initializer_list<std::pair<std::string_view, std::string_view>>;

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
