#include "sfmc/response.h"

#include <rapidjson/document.h>

#include <cstdlib>

#include "core/pooled_document.h"

namespace sfmc {

namespace {

// SFMC spells it errorcode or errorCode, as a number or a string.
std::optional<int64_t> error_code(const rapidjson::Value& object) {
  for (const char* name : {"errorcode", "errorCode"}) {
    auto it = object.FindMember(name);
    if (it == object.MemberEnd()) continue;
    if (it->value.IsInt64()) return it->value.GetInt64();
    if (it->value.IsString()) {
      char* end = nullptr;
      long long parsed = std::strtoll(it->value.GetString(), &end, 10);
      if (end != it->value.GetString() && *end == '\0') return parsed;
    }
  }
  return std::nullopt;
}

std::string string_member(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

std::optional<int> parse_seconds(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  long value = std::strtol(text.c_str(), &end, 10);
  if (end == text.c_str() || value < 0) return std::nullopt;
  return static_cast<int>(value);
}

// The error shapes SFMC uses: {"message","errorcode"}, MobileConnect's
// {"errors":[...]}, and OAuth's {"error","error_description"}.
void collect_errors(const rapidjson::Value& doc, std::vector<ErrorDetail>& errors) {
  if (auto it = doc.FindMember("errors"); it != doc.MemberEnd() && it->value.IsArray()) {
    for (const auto& e : it->value.GetArray()) {
      if (e.IsString()) errors.push_back({e.GetString(), {}, std::nullopt, {}});
      else if (e.IsObject()) errors.push_back({string_member(e, "message"), {}, error_code(e), {}});
    }
  }
  std::string message = string_member(doc, "message");
  if (message.empty()) message = string_member(doc, "error_description");
  if (message.empty()) message = string_member(doc, "error");
  auto code = error_code(doc);
  if (message.empty() && code && *code != 0) message = "SFMC error code " + std::to_string(*code);
  if (!message.empty()) errors.push_back({message, {}, code, {}});
}

void classify_accepted(const rapidjson::Value& doc, bool is_retry, const OwnKey& own_key, Classified& out) {
  out.request_id = string_member(doc, "requestId");
  out.token_id = string_member(doc, "tokenId");
  size_t refused = 0;
  if (auto it = doc.FindMember("responses"); it != doc.MemberEnd() && it->value.IsArray()) {
    for (const auto& r : it->value.GetArray()) {
      if (!r.IsObject()) continue;
      std::string key = string_member(r, "messageKey");
      auto code = error_code(r);
      bool ok = !code || *code == 0 || (*code == kDuplicateMessageKey && (is_retry || (own_key && own_key(key))));
      if (ok) {
        out.message_keys.push_back(key);
      } else {
        ++refused;
        out.errors.push_back({string_member(r, "message"), {}, code, key});
      }
    }
  }
  auto top = error_code(doc);
  if (refused == 0 && top && *top != 0 && *top != kResponsesHaveErrors)
    out.errors.push_back({string_member(doc, "message"), {}, top, {}});
  if (out.errors.empty()) out.verdict = Verdict::Accepted;
  else if (out.message_keys.empty()) out.verdict = Verdict::Rejected;
  else out.verdict = Verdict::PartiallyAccepted;
}

}  // namespace

Classified classify(const HttpResponse& response, bool is_retry, const OwnKey& own_key) {
  Classified out;
  out.http_status = response.status;
  out.retry_after_s = parse_seconds(response.retry_after);
  if (response.status == 0) {
    out.verdict = response.certificate_refused ? Verdict::Failed : Verdict::Retryable;
    out.errors.push_back({"no response from SFMC: " + response.transport_error, {}, std::nullopt, {}});
    return out;
  }
  PooledDocument pooled;
  rapidjson::Document& doc = pooled.doc();
  doc.Parse(response.body.c_str());
  bool object = !doc.HasParseError() && doc.IsObject();

  if (response.status >= 200 && response.status < 300) {
    if (!object) {
      out.verdict = Verdict::Retryable;
      out.errors.push_back({"SFMC answered " + std::to_string(response.status) + " with a body that is not a JSON object",
                            {}, std::nullopt, {}});
      return out;
    }
    classify_accepted(doc, is_retry, own_key, out);
    return out;
  }

  if (object) {
    collect_errors(doc, out.errors);
    if (!out.retry_after_s)
      if (auto it = doc.FindMember("retryAfter"); it != doc.MemberEnd() && it->value.IsInt()) out.retry_after_s = it->value.GetInt();
  }
  if (out.errors.empty()) out.errors.push_back({"SFMC answered HTTP " + std::to_string(response.status), {}, std::nullopt, {}});

  if (response.status == 429) {
    out.throttled = true;
    out.blocked = object && error_code(doc) == kTemporarilyBlocked;
  }
  if (response.status == 401) out.verdict = Verdict::Unauthorized;
  else if (response.status == 429 || response.status == 408 || response.status >= 500) out.verdict = Verdict::Retryable;
  else out.verdict = Verdict::Rejected;
  return out;
}

}  // namespace sfmc
