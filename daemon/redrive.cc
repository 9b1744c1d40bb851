#include "redrive.h"

#include <syslog.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "core/civil_time.h"
#include "pipeline/redrive.h"

namespace sfmc {

const char* const kRedriveUsage = R"(Usage: sfmc-relay redrive --config FILE [options]
  Publishes dead letters (kafka.dead_letter_topic) back to the topic each was read from,
  as they came, with the event's identity; records and the redrive group's positions
  go in one Kafka transaction, so a redrive run again publishes nothing twice.
  --status S          failed, rejected or invalid (default: failed)
  --error-code N      SFMC error code (e.g. 50200) or SFMC's HTTP status (e.g. 503)
  --operation OP      the event's operation, e.g. transactional.sms.send
  --account NAME      the event's account
  --since T, --until T   dead-letter record time: RFC 3339 UTC (2026-12-06T09:30:00Z)
                      or a time ago (90s, 15m, 2h, 3d); since inclusive, until exclusive
  --limit N           publish at most N records; the next run goes on after them
  --to TOPIC          publish there instead of each record's input topic
  --group NAME        the redrive's consumer group (default: GROUP-redrive, GROUP being
                      kafka.group_id); a new group starts at the beginning of the topic
  --dry-run           count what would go, by status, error and operation; change nothing
  Filters take a comma-separated list or repeat; a record must match each one given.
Exit codes: 0 done (or nothing past the group's positions), 1 Kafka failure or unknown
topic, 2 usage, 3 another redrive of the same group took over, 4 no record matched the
filters (nothing published, positions kept), 78 configuration, 130 interrupted (what was
published stays, positions with it).
)";

namespace {

struct Usage : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> items;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) items.push_back(item);
  return items;
}

int64_t whole_number(const std::string& flag, const std::string& text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0)
    throw Usage(flag + " takes a whole number, not '" + text + "'");
  return value;
}

// RFC 3339 UTC, or an age ("15m") before now.
int64_t point_in_time(const std::string& flag, const std::string& text, int64_t now_ms) {
  if (auto ms = parse_civil_ms(text, "Z", 9)) return *ms;
  static const std::pair<char, int64_t> kUnits[] = {{'s', 1000}, {'m', 60'000}, {'h', 3'600'000}, {'d', 86'400'000}};
  if (text.size() >= 2)
    for (auto [unit, ms] : kUnits)
      if (text.back() == unit) {
        int64_t n = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, n);
        if (ec == std::errc() && end == text.data() + text.size() - 1 && n >= 0) return now_ms - n * ms;
      }
  throw Usage(flag + " takes an RFC 3339 UTC time (2026-12-06T09:30:00Z) or an age (90s, 15m, 2h, 3d), not '" + text +
              "'");
}

struct Command {
  RedriveOptions options;
  std::string group;
  std::string filters;  // as given, for messages
};

Command parse(const std::vector<std::string>& args, const RelayConfig& config) {
  Command command;
  RedriveFilter& filter = command.options.filter;
  int64_t now = unix_ms_now();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--dry-run") {
      command.options.dry_run = true;
      continue;
    }
    if (i + 1 >= args.size())
      throw Usage(flag == "--config" || flag.starts_with("--") ? flag + " needs a value" : "unexpected '" + flag + "'");
    const std::string& value = args[++i];
    if (flag != "--config" && flag != "--group" && flag != "--to" && flag != "--limit")
      command.filters += " " + flag + " " + value;
    if (flag == "--config") {
    } else if (flag == "--status") {
      for (const auto& s : split(value)) {
        if (s != "failed" && s != "rejected" && s != "invalid")
          throw Usage("--status is failed, rejected or invalid, not '" + s + "'");
        filter.statuses.insert(s);
      }
    } else if (flag == "--error-code") {
      for (const auto& code : split(value)) filter.error_codes.insert(whole_number(flag, code));
    } else if (flag == "--operation") {
      for (const auto& op : split(value)) filter.operations.insert(op);
    } else if (flag == "--account") {
      for (const auto& account : split(value)) filter.accounts.insert(account);
    } else if (flag == "--since") {
      filter.since_ms = point_in_time(flag, value, now);
    } else if (flag == "--until") {
      filter.until_ms = point_in_time(flag, value, now);
    } else if (flag == "--limit") {
      command.options.limit = static_cast<uint64_t>(whole_number(flag, value));
      if (*command.options.limit == 0) throw Usage("--limit must be at least 1");
    } else if (flag == "--to") {
      command.options.to_topic = value;
    } else if (flag == "--group") {
      command.group = value;
    } else {
      throw Usage("unknown option '" + flag + "'");
    }
  }
  if (filter.statuses.empty()) filter.statuses.insert("failed");
  if (command.group.empty()) command.group = config.consumer_properties.at("group.id") + "-redrive";
  return command;
}

std::string grouped(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// Columns: status, operation, error, records.
void print_table(const std::map<Redrive::Row, uint64_t>& table) {
  int status_width = 6, operation_width = 9, error_width = 5;
  for (const auto& [row, n] : table) {
    const auto& [status, error, operation] = row;
    status_width = std::max(status_width, static_cast<int>(status.size()));
    operation_width = std::max(operation_width, static_cast<int>(operation.size()));
    error_width = std::max(error_width, static_cast<int>(error.size()));
  }
  auto line = [&](const std::string& status, const std::string& operation, const std::string& error,
                  const std::string& records) {
    std::printf("%-*s  %-*s  %-*s  %10s\n", status_width, status.c_str(), operation_width, operation.c_str(),
                error_width, error.c_str(), records.c_str());
  };
  line("status", "operation", "error", "records");
  for (const auto& [row, n] : table) {
    const auto& [status, error, operation] = row;
    line(status, operation.empty() ? "-" : operation, error, grouped(n));
  }
}

}  // namespace

int run_redrive(const std::vector<std::string>& args, const RelayConfig& config, const std::atomic<bool>& stop) {
  Command command;
  try {
    command = parse(args, config);
  } catch (const Usage& e) {
    std::cerr << "sfmc-relay redrive: " << e.what() << "\n" << kRedriveUsage;
    return 2;
  }
  const std::string& from = config.pipeline.dead_letter_topic;
  if (from.empty()) {
    std::cerr << "sfmc-relay redrive: the configuration sets no kafka.dead_letter_topic: there is nothing to redrive\n";
    return 78;
  }
  auto say = [](const std::string& line) {
    std::cerr << "\r\033[K"
              << "sfmc-relay redrive: " << line << "\n";
  };
  auto kafka_log = [&](int level, const std::string& facility, const std::string& message) {
    if (level <= LOG_WARNING) say("librdkafka " + facility + ": " + message);
  };
  kafka::Properties consumer = config.consumer_properties;
  consumer["group.id"] = command.group;
  kafka::TopicReader reader(consumer, from, kafka_log);
  std::optional<kafka::Publisher> publisher;
  if (!command.options.dry_run) {
    kafka::Properties producer = config.producer_properties;
    producer["transactional.id"] = command.group;  // one redrive of a group at a time
    publisher.emplace(producer, kafka_log);
  }
  Redrive redrive(reader, publisher ? &*publisher : nullptr, command.options, say);

  bool terminal = isatty(STDERR_FILENO);
  auto began = std::chrono::steady_clock::now();
  auto rate = [&](uint64_t n) {
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    return s > 0 ? grouped(static_cast<uint64_t>(n / s)) : std::string("0");
  };
  auto result = redrive.run(stop, [&](const RedriveProgress& p) {
    if (!terminal) return;
    std::cerr << "\r\033[Kread " << grouped(p.read) << ", chosen " << grouped(p.chosen) << ", published "
              << grouped(p.published) << ", " << rate(p.read) << " records/s, " << grouped(p.remaining) << " left"
              << std::flush;
  });
  if (terminal) std::cerr << "\r\033[K" << std::flush;
  const RedriveProgress& p = redrive.progress();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::string where = command.options.to_topic.empty() ? "to their input topics" : "to " + command.options.to_topic;
  std::string skipped = p.not_dead_letters == 0
                            ? std::string()
                            : "; " + grouped(p.not_dead_letters) + " records without sfmc-relay's headers skipped";
  char timing[64];
  std::snprintf(timing, sizeof timing, "%.1f s", seconds);

  switch (result) {
    case Redrive::Result::Done:
    case Redrive::Result::Stopped:
      if (command.options.dry_run) {
        if (p.chosen > 0) print_table(redrive.table());
        std::cout << "dry run: " << grouped(p.chosen) << " of " << grouped(p.read) << " dead letters read from " << from
                  << " would be published " << where << "; nothing was published or committed" << skipped << "\n";
      } else if (p.read == 0) {
        std::cout << "nothing to redrive: " << from << " holds no record past the positions of group " << command.group
                  << "\n";
      } else {
        uint64_t passed = p.read - p.chosen - p.not_dead_letters;
        std::cout << "published " << grouped(p.published) << " of " << grouped(p.read) << " dead letters read from "
                  << from << " " << where << " in " << timing << " (" << rate(p.read) << " records/s), group "
                  << command.group
                  << (passed == 0
                          ? std::string()
                          : "; " + grouped(passed) + " that did not match passed over (a new --group reads them again)")
                  << skipped << (result == Redrive::Result::Stopped ? "; interrupted" : "") << "\n";
      }
      return result == Redrive::Result::Stopped ? 130 : 0;
    case Redrive::Result::NothingChosen:
      std::cout << "no record matched: none of the " << grouped(p.read) << " dead letters read from " << from
                << " matches" << command.filters
                << (command.filters.find("--status") == std::string::npos ? " (--status failed by default)" : "")
                << "; nothing was published and group " << command.group << " keeps its positions" << skipped << "\n";
      return 4;
    case Redrive::Result::KafkaFailure:
      say(redrive.error() + (p.published > 0 ? "; " + grouped(p.published) + " records were published before" : ""));
      return 1;
    case Redrive::Result::Fenced:
      say("another redrive of group " + command.group + " took over (" + redrive.error() + ")");
      return 3;
  }
  return 1;
}

}  // namespace sfmc
