#include "core/delivery.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <cstdint>

#include "core/civil_time.h"
#include "core/json_writer.h"

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

using Writer = JsonWriter;

void put_if(Writer& w, std::string_view key, std::string_view value) {
  if (!value.empty()) put(w, key, value);
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
  if (it->value.IsString()) ms = parse_civil_ms({it->value.GetString(), it->value.GetStringLength()}, "Z", SIZE_MAX);
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
  put(w, "acceptedAt", rfc3339_ms(c.accepted_ms));
  put(w, "due", rfc3339_ms(c.due_ms));
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

std::optional<std::vector<StatusCheck>> first_checks(std::string_view text, std::string_view message_id,
                                                     int64_t accepted_ms, int64_t due_ms, std::string& error) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  auto refuse = [&error](std::string sentence) {
    error = "outcome: " + std::move(sentence);
    return std::nullopt;
  };
  if (doc.HasParseError()) return refuse(std::string("not JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()));
  if (!doc.IsObject()) return refuse("not a JSON object");
  auto string_of = [&doc](const char* name) -> std::string {
    auto it = doc.FindMember(name);
    return it != doc.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString(), it->value.GetStringLength())
                                                         : std::string();
  };
  std::vector<StatusCheck> checks;
  const std::string status = string_of("status");
  if (status != "accepted" && status != "partially_accepted") return checks;
  StatusCheck check{string_of("id"), string_of("operation"), string_of("account"), {}, string_of("tokenId"), {},
                    accepted_ms, due_ms, 0};
  if (check.id.empty() || check.operation.empty() || check.account.empty())
    return refuse("'id', 'operation' and 'account' must be non-empty strings");
  if (!check.token_id.empty()) {
    if (message_id.empty()) return refuse("a tokenId without the " + std::string(kMessageIdHeader) + " header");
    check.message_id = message_id;
    checks.push_back(std::move(check));
    return checks;
  }
  auto keys = doc.FindMember("messageKeys");
  if (keys == doc.MemberEnd() || !keys->value.IsArray()) return refuse("accepted, without 'messageKeys' or 'tokenId'");
  for (const auto& key : keys->value.GetArray()) {  // the accepted ones
    if (!key.IsString() || key.GetStringLength() == 0) return refuse("'messageKeys' must hold non-empty strings");
    check.message_key.assign(key.GetString(), key.GetStringLength());
    checks.push_back(check);
  }
  return checks;
}

std::string to_json(const DeliveryRecord& r) {
  rapidjson::StringBuffer buffer(nullptr, 1024);
  Writer w(buffer);
  w.StartObject();
  w.Key("version");
  w.Int(1);
  const bool ens = r.source == DeliverySource::Ens;
  put(w, "source", ens ? "ens" : "status");
  if (ens) {
    put(w, "messageKey", r.message_key);
    put(w, "channel", r.channel);
  } else {
    put(w, "id", r.id);
    put(w, "operation", r.operation);
    put(w, "account", r.account);
    if (!r.message_key.empty()) {
      put(w, "messageKey", r.message_key);
    } else {
      put(w, "tokenId", r.token_id);
      put_if(w, "mobileNumber", r.mobile_number);
    }
  }
  put(w, "state", to_string(r.state));
  w.Key("final");
  w.Bool(r.final);
  if (!ens) {
    w.Key("step");
    w.Int(r.step);
  }
  put(w, ens ? "receivedAt" : "checkedAt", rfc3339_ms(r.checked_ms));
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
  put_if(w, "mid", r.mid);
  put_if(w, "definitionKey", r.definition_key);
  put_if(w, "compositeId", r.composite_id);
  w.EndObject();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace sfmc
