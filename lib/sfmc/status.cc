#include "sfmc/status.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <unordered_map>

#include "core/civil_time.h"
#include "sfmc/json_text.h"

namespace sfmc {

namespace {

// A standardStatusCode as a number; -1 (below every real code) when it is not one.
int code_rank(const std::string& code) {
  if (code.empty() || code.size() > 9) return -1;
  int value = 0;
  for (char c : code) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

// A send's top-level status while no number is tracked yet.
DeliveryState state_for_send_status(std::string_view status) {
  if (status == "New" || status == "Queuing" || status == "Started") return DeliveryState::Queued;
  if (status == "Error") return DeliveryState::NotSent;
  return DeliveryState::Unknown;  // "Finished" with no rows says nothing about any number
}

// SFMC's words in an error body: REST's "message" and MobileConnect's "errors".
std::vector<std::string> sfmc_words(std::string_view body) {
  std::vector<std::string> words;
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return words;
  if (auto it = doc.FindMember("errors"); it != doc.MemberEnd() && it->value.IsArray()) {
    for (const auto& e : it->value.GetArray()) {
      if (e.IsString() && e.GetStringLength() > 0) words.emplace_back(e.GetString(), e.GetStringLength());
    }
  }
  if (auto message = text_of(doc, "message"); !message.empty()) words.push_back(std::move(message));
  return words;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : "; ") + w;
  return out;
}

// Any answer but 200; `retry` when the trouble may pass (no answer, 429, 5xx).
StatusAnswer failed(int http_status, std::string_view body) {
  StatusAnswer answer;
  answer.retry = http_status == 0 || http_status == 429 || (http_status >= 500 && http_status <= 599);
  if (http_status == 0) {
    answer.error = "no HTTP answer from SFMC";
    return answer;
  }
  answer.error = "SFMC answered HTTP " + std::to_string(http_status);
  if (auto words = joined(sfmc_words(body)); !words.empty()) answer.error += ": " + words;
  return answer;
}

StatusAnswer unreadable(std::string why) {
  StatusAnswer answer;
  answer.retry = true;
  answer.error = "unreadable status answer: " + why;
  return answer;
}

// Parses a 200 body; false (with `answer` set) when it is no JSON object.
bool parse_object(std::string_view body, rapidjson::Document& doc, StatusAnswer& answer) {
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError()) {
    answer = unreadable(std::string("not JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) + " (at byte " +
                        std::to_string(doc.GetErrorOffset()) + ")");
    return false;
  }
  if (!doc.IsObject()) {
    answer = unreadable("not a JSON object");
    return false;
  }
  return true;
}

std::string utc_or_empty(const std::string& cst) { return central_to_utc(cst).value_or(std::string()); }

}  // namespace

std::optional<std::string> central_to_utc(std::string_view s) {
  // .NET prints 1 to 7 fraction digits. CST is UTC-6 all year: SFMC applies
  // no daylight saving.
  auto central = parse_civil_ms(s, "", 7);
  if (!central) return {};
  const int64_t utc = *central + 6 * 3600 * 1000;
  if (utc >= kYear10000Ms) return {};
  return rfc3339_ms(utc);
}

StatusAnswer read_message_status(int http_status, std::string_view body) {
  if (http_status == 404) {
    StatusAnswer answer;
    answer.not_found = true;
    answer.error = "SFMC does not know this messageKey (404)";
    if (auto words = joined(sfmc_words(body)); !words.empty()) answer.error += ": " + words;
    return answer;
  }
  if (http_status != 200) return failed(http_status, body);
  StatusAnswer answer;
  rapidjson::Document doc;
  if (!parse_object(body, doc, answer)) return answer;
  StatusReading row;
  row.event_category_type = text_of(doc, "eventCategoryType");
  if (row.event_category_type.empty()) return unreadable("no 'eventCategoryType'");
  row.state = state_for_event_type(row.event_category_type);
  // This route reports nothing after Sent, so Sent ends the follow-up here.
  row.terminal = row.state == DeliveryState::Sent || is_terminal(row.state);
  if (auto info = doc.FindMember("info"); info != doc.MemberEnd() && info->value.IsObject()) {
    row.status_code = text_of(info->value, "statusCode");
    row.status_message = text_of(info->value, "statusMessage");
  }
  row.sfmc_time = utc_or_empty(text_of(doc, "timestamp"));
  answer.rows.push_back(std::move(row));
  return answer;
}

StatusAnswer read_delivery_status(int http_status, std::string_view body) {
  if (http_status == 400) {
    StatusAnswer answer;
    const auto words = sfmc_words(body);
    for (const auto& w : words) {
      // mc::kInvalidTokenId, "Token id {0} is not valid.": SFMC does not know the token.
      if (w.starts_with("Token id ") && w.ends_with(" is not valid.")) {
        answer.not_found = true;
        answer.error = w;
        return answer;
      }
    }
    answer.error = words.empty() ? "SFMC answered HTTP 400" : joined(words);
    return answer;
  }
  if (http_status != 200) return failed(http_status, body);
  StatusAnswer answer;
  rapidjson::Document doc;
  if (!parse_object(body, doc, answer)) return answer;
  const std::string send_status = text_of(doc, "status");
  std::string when = text_of(doc, "completeDate");
  if (when.empty()) when = text_of(doc, "createDate");
  const std::string sfmc_time = utc_or_empty(when);

  auto tracking = doc.FindMember("tracking");
  if (tracking != doc.MemberEnd() && !tracking->value.IsNull() && !tracking->value.IsArray()) {
    return unreadable("'tracking' is not an array");
  }
  std::vector<int> ranks;  // per row of answer.rows, its standardStatusCode as a number
  std::unordered_map<std::string, size_t> place;  // mobile number -> its row (lists can be long)
  if (tracking != doc.MemberEnd() && tracking->value.IsArray()) {
    rapidjson::SizeType index = 0;
    for (const auto& t : tracking->value.GetArray()) {
      if (!t.IsObject()) return unreadable("tracking row " + std::to_string(index) + " is not an object");
      ++index;
      StatusReading row;
      row.mobile_number = text_of(t, "mobileNumber");
      row.status_code = text_of(t, "statusCode");
      row.status_message = text_of(t, "message");
      row.standard_status_code = text_of(t, "standardStatusCode");
      row.description = text_of(t, "description");
      const int rank = code_rank(row.standard_status_code);
      const auto [it, first] = place.try_emplace(row.mobile_number, answer.rows.size());
      const size_t i = it->second;
      if (first) {
        answer.rows.push_back(std::move(row));
        ranks.push_back(rank);
      } else if (rank > ranks[i]) {
        answer.rows[i] = std::move(row);  // keeps the number's place of first appearance
        ranks[i] = rank;
      }
    }
  }
  for (size_t i = 0; i < answer.rows.size(); ++i) answer.rows[i].state = state_for_sms_status_code(ranks[i]);
  if (answer.rows.empty()) {
    answer.rows.emplace_back();
    answer.rows.back().state = state_for_send_status(send_status);
  }
  for (auto& row : answer.rows) {
    row.terminal = is_terminal(row.state);
    row.send_status = send_status;
    row.sfmc_time = sfmc_time;
  }
  return answer;
}

}  // namespace sfmc
