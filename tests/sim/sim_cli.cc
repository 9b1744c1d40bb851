#include "sim_cli.h"

#include <charconv>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>

namespace sfmc::sim {

const std::string_view kUsage =
    "usage: sfmc-sim [options]\n"
    "  --host ADDR                address to listen on (default 127.0.0.1)\n"
    "  --port N                   port to listen on; 0 picks a free one (default 0)\n"
    "  --client-id ID             accepted client_id (default sim-client)\n"
    "  --client-secret S          accepted client_secret (default sim-secret)\n"
    "  --token-ttl SECONDS        token lifetime and expires_in (default 1080)\n"
    "  --tls-cert FILE            serve HTTPS with this PEM certificate (chain); needs --tls-key\n"
    "  --tls-key FILE             the certificate's PEM private key\n"
    "  --rest-instance-url URL    the token route's rest_instance_url (default: this server)\n"
    "ENS (the Event Notification Service; README.md, \"ENS\"):\n"
    "  (also the callbacks subscribed through /platform/v1/ens-*, each with its key and types)\n"
    "  --ens-callback URL         POST signed batches of the transactional events to this callback\n"
    "  --ens-key KEY              the callback's signature key (base64); needs --ens-callback\n"
    "  --ens-ca FILE              trust this CA for an https callback\n"
    "  --ens-delivered-after-ms MS  SmsDelivered this long after SmsSent (default 1000)\n"
    "  --ens-batch N              events per POST at most (1 to 1000, default 1000)\n"
    "  --ens-repeat-rate P        post this share of batches twice, as ENS now and then does (default 0)\n"
    "  --threads N                worker threads = max concurrent connections (default 64)\n"
    "  --record-limit N           keep the last N requests for /_sim/requests; 0 = off (default 100000)\n"
    "  --message-key-window SECONDS  a messageKey is refused again for this long; 0 = forever (default 172800)\n"
    "  --message-key-limit N      remember at most N messageKeys, oldest forgotten first; 0 = no cap\n"
    "                             (default 2000000)\n"
    "  --status-limit N           status records kept per kind, oldest dropped first (default 100000)\n"
    "  --status-delay-ms MS       status routes say queued until MS after the send (default 0)\n"
    "  --seed N                   seed for identifiers and faults; 0 = random (default 0)\n"
    "faults (README.md, \"Faults\"; PUT /_sim/faults changes them at run time):\n"
    "  --faults JSON|@FILE        the whole faults document\n"
    "  --latency-ms MS|MIN-MAX    delay each send, fixed or uniform\n"
    "  --fault-rate NAME=P        fail a share P of sends with NAME (500, 503, 429, 429-blocked, 401,\n"
    "                             reset, partial, timeout); repeatable\n"
    "  --fail-next N:NAME         fail the next N sends with NAME\n"
    "  --outage NAME              fail every send with NAME (e.g. 503 or timeout)\n"
    "  --retry-after SECONDS      Retry-After of 429 and 503 (default 5)\n"
    "  --stall-ms MS              how long timeout holds a connection (default 30000)\n"
    "  --faults-on-token          apply the faults to POST /v2/token too\n"
    "  --fault-seed N             seed for the faults alone\n"
    "  --capacity N|CALLS[@MS],...  sends in progress at once before 429 50200; 0 = no limit (default);\n"
    "                             a schedule such as 24,64@10000,8@20000 changes it MS after start-up\n"
    "  --verbose                  log one line per request to stderr\n"
    "  --help                     show this help\n";

namespace {

template <typename Number>
std::optional<Number> to_number(std::string_view text) {
  Number value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::int64_t> non_negative(std::string_view text) {
  const auto value = to_number<std::int64_t>(text);
  if (!value || *value < 0) return std::nullopt;
  return value;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// "24" (fixed) or "24,64@10000,8@20000": CALLS[@AFTER_MS], the first
// without @ or at @0.
std::optional<CapacitySchedule> parse_capacity_flag(std::string_view text) {
  if (text.find(',') == std::string_view::npos && text.find('@') == std::string_view::npos) {
    const auto calls = non_negative(text);
    if (!calls || *calls > 1'000'000'000) return std::nullopt;
    return CapacitySchedule::fixed(static_cast<int>(*calls));
  }
  CapacitySchedule schedule;
  schedule.scheduled = true;
  while (true) {
    const auto comma = text.find(',');
    const std::string_view phase = text.substr(0, comma);
    const auto at = phase.find('@');
    const auto calls = non_negative(phase.substr(0, at));
    const auto after =
        at == std::string_view::npos ? std::optional<std::int64_t>(0) : non_negative(phase.substr(at + 1));
    if (!calls || !after || *calls > 1'000'000'000) return std::nullopt;
    schedule.phases.push_back(CapacityPhase{std::chrono::milliseconds(*after), static_cast<int>(*calls)});
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (!capacity_schedule_error(schedule.phases).empty()) return std::nullopt;
  return schedule;
}

// The flags that change SimOptions::faults. Returns "" or the error.
std::string apply_fault_flag(std::string_view flag, const std::string& value, FaultConfig& faults) {
  if (flag == "--faults") {
    const auto text = value.starts_with('@') ? read_file(value.substr(1)) : std::optional<std::string>(value);
    if (!text) return "cannot read " + value.substr(1);
    std::string error;
    auto parsed = parse_fault_config(*text, error);
    if (!parsed) return "--faults: " + error;
    faults = *std::move(parsed);
    return "";
  }
  if (flag == "--latency-ms") {
    const auto dash = value.find('-');
    const auto min = non_negative(std::string_view(value).substr(0, dash));
    const auto max = dash == std::string::npos ? min : non_negative(std::string_view(value).substr(dash + 1));
    if (!min || !max || *min > *max) return "invalid value for --latency-ms: " + value;
    faults.latency_min = std::chrono::milliseconds(*min);
    faults.latency_max = std::chrono::milliseconds(*max);
    return "";
  }
  if (flag == "--fault-rate") {
    const auto equals = value.find('=');
    const auto action = parse_fault_name(std::string_view(value).substr(0, equals));
    const auto probability =
        equals == std::string::npos ? std::nullopt : to_number<double>(std::string_view(value).substr(equals + 1));
    double sum = probability.value_or(0);
    for (const auto& rate : faults.rates) sum += rate.second;
    if (!action || !probability || *probability < 0 || *probability > 1 || sum > 1 + 1e-9) {
      return "invalid value for --fault-rate (NAME=P, the rates adding up to at most 1): " + value;
    }
    faults.rates.emplace_back(*action, *probability);
    return "";
  }
  if (flag == "--fail-next") {
    const auto colon = value.find(':');
    const auto count = non_negative(std::string_view(value).substr(0, colon));
    const auto action =
        colon == std::string::npos ? std::nullopt : parse_fault_name(std::string_view(value).substr(colon + 1));
    if (!count || !action || *count > 1'000'000'000) return "invalid value for --fail-next (N:NAME): " + value;
    faults.fail_next_count = static_cast<int>(*count);
    faults.fail_next = *action;
    return "";
  }
  if (flag == "--capacity") {
    const auto capacity = parse_capacity_flag(value);
    if (!capacity) {
      return "invalid value for --capacity (N, or CALLS@MS,... from @0 with MS increasing, e.g. 24,64@10000): " + value;
    }
    faults.capacity = *capacity;
    return "";
  }
  if (flag == "--outage") {
    const auto action = parse_fault_name(value);
    if (!action) return "invalid value for --outage: " + value;
    faults.outage = action;
    return "";
  }
  const auto number = non_negative(value);
  if (!number) return "invalid value for " + std::string(flag) + ": " + value;
  if (flag == "--retry-after") {
    faults.retry_after_s = static_cast<int>(std::min<std::int64_t>(*number, 86400));
  } else if (flag == "--stall-ms") {
    faults.stall = std::chrono::milliseconds(*number);
  } else {  // --fault-seed
    faults.seed = static_cast<std::uint64_t>(*number);
  }
  return "";
}

bool is_fault_flag(std::string_view flag) {
  return flag == "--faults" || flag == "--latency-ms" || flag == "--fault-rate" || flag == "--fail-next" ||
         flag == "--outage" || flag == "--retry-after" || flag == "--stall-ms" || flag == "--fault-seed" ||
         flag == "--capacity";
}

bool is_numeric_flag(std::string_view flag) {
  return flag == "--port" || flag == "--token-ttl" || flag == "--threads" || flag == "--record-limit" ||
         flag == "--message-key-window" || flag == "--message-key-limit" || flag == "--status-limit" ||
         flag == "--status-delay-ms" || flag == "--seed" || flag == "--ens-delivered-after-ms" || flag == "--ens-batch";
}

std::string apply_numeric_flag(std::string_view flag, const std::string& value, SimOptions& options) {
  const auto number = non_negative(value);
  if (!number || (flag == "--port" && *number > 65535) || (flag == "--threads" && (*number == 0 || *number > 4096)) ||
      (flag == "--token-ttl" && *number > 86400 * 365)) {
    return "invalid value for " + std::string(flag) + ": " + value;
  }
  const auto count = static_cast<std::size_t>(*number);
  if (flag == "--port") options.port = static_cast<int>(*number);
  if (flag == "--token-ttl") options.token_ttl_s = static_cast<int>(*number);
  if (flag == "--threads") options.worker_threads = static_cast<int>(*number);
  if (flag == "--record-limit") options.max_recorded_requests = count;
  if (flag == "--message-key-window") options.message_key_window = std::chrono::seconds(*number);
  if (flag == "--message-key-limit") options.max_message_keys = count;
  if (flag == "--status-limit") options.max_status_records = count;
  if (flag == "--status-delay-ms") options.status_delay = std::chrono::milliseconds(*number);
  if (flag == "--seed") options.random_seed = static_cast<std::uint64_t>(*number);
  if (flag == "--ens-delivered-after-ms") options.ens.delivered_after = std::chrono::milliseconds(*number);
  if (flag == "--ens-batch") {
    if (count < 1 || count > 1000) return "invalid value for --ens-batch (1 to 1000): " + value;
    options.ens.max_batch = count;
  }
  return "";
}

}  // namespace

std::string parse_command_line(const std::vector<std::string>& args, CommandLine& command_line) {
  auto& options = command_line.options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view flag = args[i];
    std::optional<std::string> inline_value;
    if (const auto equals = flag.find('='); flag.starts_with("--") && equals != std::string_view::npos) {
      inline_value = std::string(flag.substr(equals + 1));
      flag = flag.substr(0, equals);
    }
    if (flag == "--help" || flag == "-h") {
      command_line.help = true;
      continue;
    }
    if (flag == "--verbose" || flag == "-v") {
      command_line.verbose = true;
      continue;
    }
    if (flag == "--faults-on-token") {
      options.faults.include_token_route = true;
      continue;
    }
    const bool takes_value = flag == "--host" || flag == "--client-id" || flag == "--client-secret" ||
                             flag == "--tls-cert" || flag == "--tls-key" || flag == "--rest-instance-url" ||
                             flag == "--ens-callback" || flag == "--ens-key" || flag == "--ens-ca" ||
                             flag == "--ens-repeat-rate" ||
                             is_numeric_flag(flag) || is_fault_flag(flag);
    if (!takes_value) return "unknown option " + std::string(flag);
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return "missing value for " + std::string(flag);
    }
    std::string error;
    if (flag == "--host") {
      options.host = value;
    } else if (flag == "--client-id") {
      options.client_id = value;
    } else if (flag == "--client-secret") {
      options.client_secret = value;
    } else if (flag == "--tls-cert") {
      options.tls_cert_file = value;
    } else if (flag == "--tls-key") {
      options.tls_key_file = value;
    } else if (flag == "--rest-instance-url") {
      options.rest_instance_url = value;
    } else if (flag == "--ens-callback") {
      if (!value.starts_with("http://") && !value.starts_with("https://"))
        return "invalid value for --ens-callback (http(s)://HOST:PORT/PATH): " + value;
      options.ens.callback_url = value;
    } else if (flag == "--ens-key") {
      options.ens.signature_key = value;
    } else if (flag == "--ens-ca") {
      options.ens.ca_file = value;
    } else if (flag == "--ens-repeat-rate") {
      const auto rate = to_number<double>(value);
      if (!rate || *rate < 0 || *rate > 1) return "invalid value for --ens-repeat-rate (0 to 1): " + value;
      options.ens.repeat_rate = *rate;
    } else if (is_numeric_flag(flag)) {
      error = apply_numeric_flag(flag, value, options);
    } else {
      error = apply_fault_flag(flag, value, options.faults);
    }
    if (!error.empty()) return error;
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) return "--tls-cert and --tls-key go together";
  if (options.ens.callback_url.empty() != options.ens.signature_key.empty())
    return "--ens-callback and --ens-key go together";
  return "";
}

}  // namespace sfmc::sim
