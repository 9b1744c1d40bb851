#include "core/delivery.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <chrono>

namespace sfmc {

std::string_view to_string(DeliveryState state) {
  switch (state) {
    case DeliveryState::Queued: return "queued";
    case DeliveryState::Sent: return "sent";
    case DeliveryState::Delivered: return "delivered";
    case DeliveryState::Undeliverable: return "undeliverable";
    case DeliveryState::NotSent: return "not_sent";
    case DeliveryState::Expired: return "expired";
    case DeliveryState::Unknown: return "unknown";
  }
  return "unknown";
}

bool is_terminal(DeliveryState state) {
  switch (state) {
    case DeliveryState::Delivered:
    case DeliveryState::Undeliverable:
    case DeliveryState::NotSent:
    case DeliveryState::Expired: return true;
    // Sent is final only on the messageKey route, which read_message_status decides.
    case DeliveryState::Queued:
    case DeliveryState::Sent:
    case DeliveryState::Unknown: return false;
  }
  return false;
}

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
namespace chr = std::chrono;

void put(Writer& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void put_if(Writer& w, std::string_view key, std::string_view value) {
  if (!value.empty()) put(w, key, value);
}

// `width` decimal digits of `value` at `at`.
void write_digits(char* at, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i, value /= 10) at[i] = static_cast<char>('0' + value % 10);
}

// Calendar arithmetic by std::chrono's civil calendar: the machine's time
// zone never enters. Written by hand: snprintf was a tenth of what a status
// check cost the send path (perf).
std::string rfc3339(int64_t unix_ms) {
  const chr::sys_time<chr::milliseconds> time{chr::milliseconds(unix_ms)};
  const auto day = chr::floor<chr::days>(time);
  const chr::year_month_day ymd{day};
  const chr::hh_mm_ss<chr::milliseconds> hms{time - day};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) return "0000-01-01T00:00:00.000Z";  // not a time SFMC or Kafka gives
  char text[] = "YYYY-MM-DDTHH:MM:SS.mmmZ";
  write_digits(text, static_cast<unsigned>(year), 4);
  write_digits(text + 5, static_cast<unsigned>(ymd.month()), 2);
  write_digits(text + 8, static_cast<unsigned>(ymd.day()), 2);
  write_digits(text + 11, static_cast<unsigned>(hms.hours().count()), 2);
  write_digits(text + 14, static_cast<unsigned>(hms.minutes().count()), 2);
  write_digits(text + 17, static_cast<unsigned>(hms.seconds().count()), 2);
  write_digits(text + 20, static_cast<unsigned>(hms.subseconds().count()), 3);
  return {text, sizeof text - 1};
}

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

// "YYYY-MM-DDTHH:MM:SS[.f+]Z" to Unix ms (fraction truncated to ms).
std::optional<int64_t> parse_rfc3339(std::string_view s) {
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return {};
  const int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  const int h = digits(s, 11, 2), mi = digits(s, 14, 2), sec = digits(s, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return {};
  const chr::year_month_day ymd{chr::year(y), chr::month(static_cast<unsigned>(mo)),
                                chr::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return {};
  size_t pos = 19;
  int64_t ms = 0;
  if (s[pos] == '.') {
    size_t end = ++pos;
    while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
    if (end == pos) return {};
    for (size_t i = 0; i < 3; ++i) ms = ms * 10 + (pos + i < end ? s[pos + i] - '0' : 0);
    pos = end;
  }
  if (pos + 1 != s.size() || s[pos] != 'Z') return {};
  const auto time = chr::sys_days(ymd) + chr::hours(h) + chr::minutes(mi) + chr::seconds(sec);
  return chr::duration_cast<chr::milliseconds>(time.time_since_epoch()).count() + ms;
}

bool fail(std::string& error, std::string sentence) {
  error = "status check: " + std::move(sentence);
  return false;
}

// A member that must be a non-empty string, when present or `required`.
bool read_string(const rapidjson::Value& doc, const char* name, bool required, std::string& out, std::string& error) {
  auto it = doc.FindMember(name);
  if (it == doc.MemberEnd()) return required ? fail(error, std::string("'") + name + "' is missing") : true;
  if (!it->value.IsString() || it->value.GetStringLength() == 0) {
    return fail(error, std::string("'") + name + "' must be a non-empty string");
  }
  out.assign(it->value.GetString(), it->value.GetStringLength());
  return true;
}

bool read_time(const rapidjson::Value& doc, const char* name, int64_t& out, std::string& error) {
  auto it = doc.FindMember(name);
  if (it == doc.MemberEnd()) return fail(error, std::string("'") + name + "' is missing");
  std::optional<int64_t> ms;
  if (it->value.IsString()) ms = parse_rfc3339({it->value.GetString(), it->value.GetStringLength()});
  if (!ms) return fail(error, std::string("'") + name + "' must be an RFC 3339 UTC time like 2026-11-30T17:04:05.123Z");
  out = *ms;
  return true;
}

constexpr std::array<std::string_view, 10> kCheckMembers = {
    "version", "id", "operation", "account", "messageKey", "tokenId", "messageId", "acceptedAt", "due", "step"};

bool read_check(const rapidjson::Document& doc, StatusCheck& c, std::string& error) {
  if (!doc.IsObject()) return fail(error, "not a JSON object");
  for (const auto& m : doc.GetObject()) {
    const std::string_view name(m.name.GetString(), m.name.GetStringLength());
    bool known = false;
    for (auto k : kCheckMembers) known = known || k == name;
    if (!known) return fail(error, "unknown member '" + std::string(name) + "'");
  }
  auto version = doc.FindMember("version");
  if (version == doc.MemberEnd()) return fail(error, "'version' is missing");
  if (!version->value.IsInt() || version->value.GetInt() != 1) return fail(error, "'version' must be 1");
  if (!read_string(doc, "id", true, c.id, error) || !read_string(doc, "operation", true, c.operation, error) ||
      !read_string(doc, "account", true, c.account, error) ||
      !read_string(doc, "messageKey", false, c.message_key, error) ||
      !read_string(doc, "tokenId", false, c.token_id, error) ||
      !read_string(doc, "messageId", false, c.message_id, error)) {
    return false;
  }
  const bool mobile = !c.token_id.empty() || !c.message_id.empty();
  if (!c.message_key.empty() && mobile) return fail(error, "'messageKey' excludes 'tokenId' and 'messageId'");
  if (c.message_key.empty() && (c.token_id.empty() || c.message_id.empty())) {
    return fail(error, "needs 'messageKey' or 'tokenId' with 'messageId'");
  }
  if (!read_time(doc, "acceptedAt", c.accepted_ms, error) || !read_time(doc, "due", c.due_ms, error)) return false;
  auto step = doc.FindMember("step");
  if (step == doc.MemberEnd()) return fail(error, "'step' is missing");
  if (!step->value.IsInt() || step->value.GetInt() < 0) return fail(error, "'step' must be a non-negative integer");
  c.step = step->value.GetInt();
  return true;
}

}  // namespace

std::string to_json(const StatusCheck& c) {
  rapidjson::StringBuffer buffer(nullptr, 512);
  Writer w(buffer);
  w.StartObject();
  w.Key("version");
  w.Int(1);
  put(w, "id", c.id);
  put(w, "operation", c.operation);
  put(w, "account", c.account);
  if (!c.message_key.empty()) {
    put(w, "messageKey", c.message_key);
  } else {
    put(w, "tokenId", c.token_id);
    put(w, "messageId", c.message_id);
  }
  put(w, "acceptedAt", rfc3339(c.accepted_ms));
  put(w, "due", rfc3339(c.due_ms));
  w.Key("step");
  w.Int(c.step);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::optional<StatusCheck> parse_status_check(std::string_view text, std::string& error) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError()) {
    error = std::string("status check: not JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) +
            " (at byte " + std::to_string(doc.GetErrorOffset()) + ")";
    return std::nullopt;
  }
  StatusCheck check;
  if (!read_check(doc, check, error)) return std::nullopt;
  error.clear();
  return check;
}

std::string to_json(const DeliveryRecord& r) {
  rapidjson::StringBuffer buffer(nullptr, 1024);
  Writer w(buffer);
  w.StartObject();
  w.Key("version");
  w.Int(1);
  put(w, "id", r.id);
  put(w, "operation", r.operation);
  put(w, "account", r.account);
  if (!r.message_key.empty()) {
    put(w, "messageKey", r.message_key);
  } else {
    put(w, "tokenId", r.token_id);
    put_if(w, "mobileNumber", r.mobile_number);
  }
  put(w, "state", to_string(r.state));
  w.Key("final");
  w.Bool(r.final);
  w.Key("step");
  w.Int(r.step);
  put(w, "checkedAt", rfc3339(r.checked_ms));
  put_if(w, "sfmcTime", r.sfmc_time);
  put_if(w, "note", r.note);
  w.Key("sfmc");
  w.StartObject();
  put_if(w, "eventCategoryType", r.event_category_type);
  put_if(w, "statusCode", r.status_code);
  put_if(w, "statusMessage", r.status_message);
  put_if(w, "standardStatusCode", r.standard_status_code);
  put_if(w, "description", r.description);
  put_if(w, "status", r.send_status);
  w.EndObject();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace sfmc
