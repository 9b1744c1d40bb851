#include "sim_mobileconnect.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <string_view>
#include <vector>

#include "sim_errors.h"
#include "sim_json.h"

namespace sfmc::sim {
namespace {

using rapidjson::Value;

// The 400 sentences of one request, each once, in the order found.
class Errors {
 public:
  void add(std::string sentence) {
    if (std::find(list_.begin(), list_.end(), sentence) == list_.end()) list_.push_back(std::move(sentence));
  }
  void add(std::string_view sentence) { add(std::string(sentence)); }
  void add(std::string_view sentence, std::string_view argument) { add(fill(sentence, argument)); }
  bool empty() const { return list_.empty(); }
  const std::vector<std::string>& list() const { return list_; }

 private:
  std::vector<std::string> list_;
};

bool is_digits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Message and list ids are encoded ids like "MzA6Nzg6MA" (base64 alphabet).
bool is_encoded_id(std::string_view id) {
  return !id.empty() && id.size() <= 200 && std::all_of(id.begin(), id.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '=' || c == '+';
         });
}

// Strings as they are; anything else as its JSON text, to name it in a sentence.
std::string display(const Value& value) {
  if (value.IsString()) return std::string(json::string_view_of(value));
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

bool is_present(const Value* value) { return value != nullptr && !value->IsNull(); }

std::size_t array_size(const Value* value) { return value != nullptr && value->IsArray() ? value->Size() : 0; }

bool two_digits_below(std::string_view text, int limit) {
  return text.size() == 2 && is_digits(text) && (text[0] - '0') * 10 + (text[1] - '0') < limit;
}

bool is_hhmm(std::string_view text) {
  return text.size() == 4 && two_digits_below(text.substr(0, 2), 24) && two_digits_below(text.substr(2, 2), 60);
}

// "-0500", "+0530", "0000".
bool is_utc_offset(std::string_view text) {
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
  return text.size() == 4 && two_digits_below(text.substr(0, 2), 15) && two_digits_below(text.substr(2, 2), 60);
}

// "yyyy-MM-dd HH:mm", e.g. "2012-10-05 20:01".
bool is_send_time(std::string_view text) {
  if (text.size() != 16 || text[4] != '-' || text[7] != '-' || text[10] != ' ' || text[13] != ':') return false;
  const auto year = text.substr(0, 4);
  const auto month = text.substr(5, 2);
  const auto day = text.substr(8, 2);
  return is_digits(year) && two_digits_below(month, 13) && month != "00" && two_digits_below(day, 32) &&
         day != "00" && two_digits_below(text.substr(11, 2), 24) && two_digits_below(text.substr(14, 2), 60);
}

// Digits only, country code included [doc]; a leading '+' is refused too
// (the reference leaves it open; strict catches clients that send one).
void check_phone(const Value* number, Errors& errors) {
  if (json::is_blank(number)) {
    errors.add(mc::kInvalidPhone);
  } else if (!number->IsString() || !is_digits(json::string_view_of(*number))) {
    errors.add(mc::kNotNumeric, display(*number));
  }
}

bool read_flag(const Value& body, std::string_view name, Errors& errors) {
  const auto flag = json::read_flag(json::member_ci(body, name));
  if (flag == json::Flag::kInvalid) errors.add(mc::kNotBoolean, name);
  return flag == json::Flag::kTrue;
}

void check_blackout_window(const Value& body, Errors& errors) {
  const auto* window = json::member_ci(body, "blackoutWindow");
  if (!is_present(window)) return;
  struct Field {
    std::string_view name, missing, invalid;
    bool (*valid)(std::string_view);
  };
  const Field fields[] = {
      {"UtcOffset", mc::kUtcOffsetRequired, mc::kInvalidUtcOffset, is_utc_offset},
      {"WindowStart", mc::kWindowStartRequired, mc::kInvalidWindowStart, is_hhmm},
      {"WindowEnd", mc::kWindowEndRequired, mc::kInvalidWindowEnd, is_hhmm},
  };
  for (const auto& field : fields) {
    const auto* value = json::member_ci(*window, field.name);
    if (json::is_blank(value)) {
      errors.add(field.missing);
    } else if (!value->IsString() || !field.valid(json::string_view_of(*value))) {
      errors.add(field.invalid, display(*value));
    }
  }
}

void check_send_time(const Value& body, Errors& errors) {
  const auto* send_time = json::member_ci(body, "SendTime");
  if (is_present(send_time) && (!send_time->IsString() || !is_send_time(json::string_view_of(*send_time)))) {
    errors.add(mc::kInvalidSendTime, display(*send_time));
  }
}

void check_subscribers(const Value& subscribers, Errors& errors) {
  if (subscribers.Size() > mc::kMaxSubscribers) errors.add(mc::kTooManySubscribers);
  for (const auto& subscriber : subscribers.GetArray()) {
    const auto* number = json::member_ci(subscriber, "MobileNumber");
    if (json::is_blank(number) || json::is_blank(json::member_ci(subscriber, "SubscriberKey"))) {
      errors.add(mc::kIncompleteSubscriber);
    }
    if (!json::is_blank(number)) check_phone(number, errors);
  }
}

// Each list id must be a non-blank encoded id; an empty array is refused.
void check_list_ids(const Value& ids, std::string_view none, std::string_view invalid, Errors& errors) {
  if (!ids.IsArray() || ids.Empty()) {
    errors.add(none);
    return;
  }
  for (const auto& id : ids.GetArray()) {
    if (!id.IsString() || !is_encoded_id(json::string_view_of(id))) errors.add(invalid, display(id));
  }
}

// Parses the body or explains why not; MobileConnect's 400 shape either way.
bool parse_body(const httplib::Request& request, rapidjson::Document& body, Errors& errors) {
  if (json::parse(request.body, body) && body.IsObject()) return true;
  errors.add(mc::kBodyNotJsonObject);
  return false;
}

Reply finish(const Errors& errors, SimContext& context) {
  if (!errors.empty()) return Reply{400, json::mc_errors(errors.list()), {}};
  json::Writer out;
  out.begin_object().str_field("tokenId", context.ids.token_id()).end_object();
  return Reply{202, out.text(), {}};
}

}  // namespace

Reply send_message_contact(const httplib::Request& request, const std::string& message_id, SimContext& context) {
  Errors errors;
  if (!is_encoded_id(message_id)) errors.add(mc::kInvalidMessageId, message_id);
  rapidjson::Document body;
  if (!parse_body(request, body, errors)) return finish(errors, context);

  const auto* numbers = json::member_ci(body, "mobileNumbers");
  const auto* subscribers = json::member_ci(body, "Subscribers");
  if (is_present(numbers) && is_present(subscribers)) {
    errors.add(mc::kBothAudiences);
  } else if (array_size(numbers) + array_size(subscribers) == 0) {
    errors.add(mc::kNoAudience);
  }
  if (array_size(numbers) > 0) {
    for (const auto& number : numbers->GetArray()) check_phone(&number, errors);
  }
  if (array_size(subscribers) > 0) check_subscribers(*subscribers, errors);

  const bool subscribe = read_flag(body, "subscribe", errors);
  const bool resubscribe = read_flag(body, "resubscribe", errors);
  const bool keyword_blank = json::is_blank(json::member_ci(body, "keyword"));
  if ((subscribe || resubscribe) && keyword_blank) errors.add(mc::kKeywordRequired);
  if (!subscribe && !resubscribe && !keyword_blank) errors.add(mc::kKeywordNotNeeded);

  const bool override_text = read_flag(body, "override", errors);
  const bool text_blank = json::is_blank(json::member_ci(body, "messageText"));
  if (override_text && text_blank) errors.add(mc::kBlankOverride);
  if (!override_text && !text_blank) errors.add(mc::kMessageTextWithoutOverride);

  check_blackout_window(body, errors);
  check_send_time(body, errors);
  return finish(errors, context);
}

Reply send_message_list(const httplib::Request& request, const std::string& message_id, SimContext& context) {
  Errors errors;
  if (!is_encoded_id(message_id)) errors.add(mc::kListInvalidMessageId, message_id);
  rapidjson::Document body;
  if (!parse_body(request, body, errors)) return finish(errors, context);

  const auto* targets = json::member_ci(body, "TargetListIds");
  const bool override_targets = read_flag(body, "OverrideTemplateTargetLists", errors);
  if (is_present(targets)) {
    check_list_ids(*targets, mc::kNoTargetLists, mc::kInvalidTargetList, errors);
    if (!override_targets) errors.add(mc::kTargetListsWithoutOverride);
  } else if (override_targets) {
    errors.add(mc::kOverrideWithoutTargetLists);
  }

  const auto* exclusions = json::member_ci(body, "ExclusionListIds");
  const bool override_exclusions = read_flag(body, "OverrideTemplateExclusionLists", errors);
  const bool ignore_exclusions = read_flag(body, "IgnoreExclusionLists", errors);
  if (is_present(exclusions)) {
    check_list_ids(*exclusions, mc::kNoExclusionLists, mc::kInvalidExclusionList, errors);
    if (!override_exclusions) errors.add(mc::kExclusionListsWithoutOverride);
    if (ignore_exclusions) errors.add(mc::kExclusionListsWhenIgnored);
  } else if (override_exclusions) {
    errors.add(mc::kOverrideWithoutExclusionLists);
  }
  if (override_exclusions && ignore_exclusions) errors.add(mc::kOverrideExclusionWhenIgnored);

  const bool override_text = read_flag(body, "OverrideMessageText", errors);
  const bool text_blank = json::is_blank(json::member_ci(body, "MessageText"));
  if (override_text && text_blank) errors.add(mc::kBlankOverride);
  if (!override_text && !text_blank) errors.add(mc::kMessageTextWithoutOverrideMessageText);

  read_flag(body, "allowDuplication", errors);  // only its type is checked
  check_blackout_window(body, errors);
  check_send_time(body, errors);
  return finish(errors, context);
}

}  // namespace sfmc::sim
