#include "sim_fault_config.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "sim_json.h"

namespace sfmc::sim {
namespace {

using rapidjson::Value;

struct NamedKind {
  std::string_view name;
  FaultKind kind;
};
constexpr NamedKind kNamedKinds[] = {
    {"429", FaultKind::kThrottled},   {"429-blocked", FaultKind::kBlocked}, {"503", FaultKind::kUnavailable},
    {"401", FaultKind::kUnauthorized}, {"reset", FaultKind::kReset},        {"partial", FaultKind::kPartial},
    {"timeout", FaultKind::kTimeout},
};

// More calls than this are as good as no limit.
int clamp_calls(std::int64_t calls) {
  return static_cast<int>(std::min<std::int64_t>(calls, 1'000'000'000));
}

// Reads the members of the faults object one by one; the first problem wins.
class Reader {
 public:
  explicit Reader(std::string& error) : error_(error) {}

  bool fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }

  bool non_negative_int(const Value& value, std::string_view name, std::int64_t& out) {
    if (!value.IsInt64() || value.GetInt64() < 0) return fail(std::string(name) + " must be a non-negative integer");
    out = value.GetInt64();
    return true;
  }

  bool millis(const Value& value, std::string_view name, std::chrono::milliseconds& out) {
    std::int64_t count = 0;
    if (!non_negative_int(value, name, count)) return false;
    out = std::chrono::milliseconds(count);
    return true;
  }

  bool action(const Value& value, std::string_view name, FaultAction& out) {
    if (value.IsInt()) {
      const auto parsed = parse_fault_name(std::to_string(value.GetInt()));
      if (!parsed) return fail(std::string(name) + ": unknown fault " + std::to_string(value.GetInt()));
      out = *parsed;
      return true;
    }
    if (!value.IsString()) return fail(std::string(name) + " must name a fault, e.g. \"503\" or \"reset\"");
    const auto parsed = parse_fault_name(json::string_view_of(value));
    if (!parsed) {
      return fail(std::string(name) + ": unknown fault \"" + std::string(json::string_view_of(value)) + "\"");
    }
    out = *parsed;
    return true;
  }

  bool latency(const Value& value, FaultConfig& config) {
    if (value.IsObject()) {
      for (const auto& member : value.GetObject()) {
        const auto name = json::string_view_of(member.name);
        if (name == "min") {
          if (!millis(member.value, "latency_ms.min", config.latency_min)) return false;
        } else if (name == "max") {
          if (!millis(member.value, "latency_ms.max", config.latency_max)) return false;
        } else {
          return fail("latency_ms: unknown member \"" + std::string(name) + "\"");
        }
      }
      if (!json::member(value, "max")) config.latency_max = config.latency_min;
      if (config.latency_min > config.latency_max) return fail("latency_ms.min must not exceed latency_ms.max");
      return true;
    }
    if (!millis(value, "latency_ms", config.latency_min)) return false;
    config.latency_max = config.latency_min;
    return true;
  }

  bool rates(const Value& value, FaultConfig& config) {
    if (!value.IsObject()) return fail("rates must be an object like {\"503\": 0.1}");
    double sum = 0;
    for (const auto& member : value.GetObject()) {
      const auto name = json::string_view_of(member.name);
      const auto parsed = parse_fault_name(name);
      if (!parsed) return fail("rates: unknown fault \"" + std::string(name) + "\"");
      if (!member.value.IsNumber() || member.value.GetDouble() < 0 || member.value.GetDouble() > 1) {
        return fail("rates." + std::string(name) + " must be a probability between 0 and 1");
      }
      sum += member.value.GetDouble();
      config.rates.emplace_back(*parsed, member.value.GetDouble());
    }
    if (sum > 1 + 1e-9) return fail("rates add up to more than 1");
    return true;
  }

  bool fail_next(const Value& value, FaultConfig& config) {
    if (!value.IsObject()) return fail("fail_next must be an object like {\"count\": 3, \"fault\": \"503\"}");
    for (const auto& member : value.GetObject()) {
      const auto name = json::string_view_of(member.name);
      std::int64_t count = 0;
      if (name == "count") {
        if (!non_negative_int(member.value, "fail_next.count", count)) return false;
        config.fail_next_count = static_cast<int>(std::min<std::int64_t>(count, 1'000'000'000));
      } else if (name == "fault") {
        if (!action(member.value, "fail_next.fault", config.fail_next)) return false;
      } else {
        return fail("fail_next: unknown member \"" + std::string(name) + "\"");
      }
    }
    return true;
  }

  // A number (fixed; 0 or null: no limit) or [{"after_ms":0,"calls":24}, ...].
  bool capacity(const Value& value, FaultConfig& config) {
    std::int64_t number = 0;
    if (value.IsNull()) {
      config.capacity = {};
      return true;
    }
    if (value.IsNumber()) {
      if (!non_negative_int(value, "capacity", number)) return false;
      config.capacity = CapacitySchedule::fixed(clamp_calls(number));
      return true;
    }
    if (!value.IsArray()) {
      return fail("capacity must be a number of calls or a schedule like [{\"after_ms\":0,\"calls\":24}]");
    }
    CapacitySchedule schedule;
    schedule.scheduled = true;
    for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
      const std::string entry = "capacity[" + std::to_string(i) + "]";
      const Value& phase_value = value[i];
      if (!phase_value.IsObject()) return fail(entry + " must be an object like {\"after_ms\":0,\"calls\":24}");
      CapacityPhase phase;
      bool has_after = false, has_calls = false;
      for (const auto& member : phase_value.GetObject()) {
        const auto name = json::string_view_of(member.name);
        if (name == "after_ms") {
          if (!millis(member.value, entry + ".after_ms", phase.after)) return false;
          has_after = true;
        } else if (name == "calls") {
          if (!non_negative_int(member.value, entry + ".calls", number)) return false;
          phase.calls = clamp_calls(number);
          has_calls = true;
        } else {
          return fail(entry + ": unknown member \"" + std::string(name) + "\"");
        }
      }
      if (!has_after || !has_calls) return fail(entry + " needs both after_ms and calls");
      schedule.phases.push_back(phase);
    }
    if (auto error = capacity_schedule_error(schedule.phases); !error.empty()) return fail(std::move(error));
    config.capacity = std::move(schedule);
    return true;
  }

  bool boolean(const Value& value, std::string_view name, bool& out) {
    if (!value.IsBool()) return fail(std::string(name) + " must be true or false");
    out = value.GetBool();
    return true;
  }

 private:
  std::string& error_;
};

bool read_member(Reader& read, std::string_view name, const Value& value, FaultConfig& config) {
  std::int64_t number = 0;
  if (name == "latency_ms") return read.latency(value, config);
  if (name == "rates") return read.rates(value, config);
  if (name == "fail_next") return read.fail_next(value, config);
  if (name == "capacity") return read.capacity(value, config);
  if (name == "outage") {
    if (value.IsNull() || (value.IsBool() && !value.GetBool())) return true;
    FaultAction action;
    if (!read.action(value, "outage", action)) return false;
    config.outage = action;
    return true;
  }
  if (name == "retry_after_s") {
    if (!read.non_negative_int(value, name, number)) return false;
    config.retry_after_s = static_cast<int>(std::min<std::int64_t>(number, 86400));
    return true;
  }
  if (name == "stall_ms") return read.millis(value, name, config.stall);
  if (name == "partial_stalls") return read.boolean(value, name, config.partial_stalls);
  if (name == "include_token_route") return read.boolean(value, name, config.include_token_route);
  if (name == "seed") {
    if (value.IsNull()) return true;  // as GET shows "no seed", so its document can be PUT back
    if (!value.IsUint64()) return read.fail("seed must be a non-negative integer");
    config.seed = value.GetUint64();
    return true;
  }
  // Consumed by the HTTP glue (PUT /_sim/faults), not part of the config.
  if (name == "expire_tokens") {
    bool ignored = false;
    return read.boolean(value, name, ignored);
  }
  return read.fail("unknown member \"" + std::string(name) + "\"");
}

}  // namespace

std::optional<FaultAction> parse_fault_name(std::string_view name) {
  for (const auto& named : kNamedKinds) {
    if (named.name == name) return FaultAction{named.kind, 0};
  }
  int status = 0;
  const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), status);
  if (error != std::errc() || end != name.data() + name.size() || status < 400 || status > 599) return std::nullopt;
  return FaultAction{FaultKind::kStatus, status};
}

std::string fault_name(const FaultAction& action) {
  if (action.kind == FaultKind::kStatus) return std::to_string(action.status);
  for (const auto& named : kNamedKinds) {
    if (named.kind == action.kind) return std::string(named.name);
  }
  return "unknown";
}

int fault_status(const FaultAction& action) {
  switch (action.kind) {
    case FaultKind::kStatus: return action.status;
    case FaultKind::kThrottled:
    case FaultKind::kBlocked: return 429;
    case FaultKind::kUnavailable: return 503;
    case FaultKind::kUnauthorized: return 401;
    case FaultKind::kReset:
    case FaultKind::kPartial:
    case FaultKind::kTimeout: return 0;
  }
  return 0;
}

std::optional<FaultConfig> parse_fault_config(std::string_view text, std::string& error) {
  error.clear();
  rapidjson::Document document;
  if (!json::parse(text, document) || !document.IsObject()) {
    error = "the faults must be a JSON object";
    return std::nullopt;
  }
  FaultConfig config;
  Reader read(error);
  for (const auto& member : document.GetObject()) {
    if (!read_member(read, json::string_view_of(member.name), member.value, config)) return std::nullopt;
  }
  return config;
}

std::string fault_config_json(const FaultConfig& config) {
  json::Writer out;
  out.begin_object().key("latency_ms").begin_object();
  out.int_field("min", config.latency_min.count()).int_field("max", config.latency_max.count()).end_object();
  out.key("rates").begin_object();
  for (const auto& [action, probability] : config.rates) out.key(fault_name(action)).number(probability);
  out.end_object().key("outage");
  if (config.outage) {
    out.string(fault_name(*config.outage));
  } else {
    out.null();
  }
  out.key("fail_next").begin_object().int_field("count", config.fail_next_count);
  out.str_field("fault", fault_name(config.fail_next)).end_object();
  out.int_field("retry_after_s", config.retry_after_s).int_field("stall_ms", config.stall.count());
  out.bool_field("partial_stalls", config.partial_stalls).bool_field("include_token_route", config.include_token_route);
  out.key("seed");
  if (config.seed) {
    out.uint(*config.seed);
  } else {
    out.null();
  }
  out.key("capacity");
  if (config.capacity.scheduled) {
    out.begin_array();
    for (const auto& phase : config.capacity.phases) {
      out.begin_object().int_field("after_ms", phase.after.count()).int_field("calls", phase.calls).end_object();
    }
    out.end_array();
  } else {
    out.integer(config.capacity.phases.empty() ? 0 : config.capacity.phases.front().calls);
  }
  return out.end_object().text();
}

}  // namespace sfmc::sim
