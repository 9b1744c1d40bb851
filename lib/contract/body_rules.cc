#include "contract/body_rules.h"

#include <set>
#include <string>

#include "contract/body_fields.h"
#include "core/operations.h"

namespace sfmc {

namespace {

using rapidjson::Value;

class Report {
 public:
  explicit Report(std::vector<ErrorDetail>& errors) : errors_(errors) {}
  void operator()(std::string pointer, std::string message) {
    errors_.push_back({std::move(message), std::move(pointer), std::nullopt, {}});
  }

 private:
  std::vector<ErrorDetail>& errors_;
};

// Seed 003 (messageContact) says "is not", seed 004 (messageList) "isn't".
struct Voice {
  const char* is_not;
};
constexpr Voice kMessageContactVoice{"is not"};
constexpr Voice kMessageListVoice{"isn't"};

bool digits(std::string_view s, size_t from, size_t count) {
  if (from + count > s.size()) return false;
  for (size_t i = from; i < from + count; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

int number(std::string_view s, size_t from, size_t count) {
  int n = 0;
  for (size_t i = from; i < from + count; ++i) n = n * 10 + (s[i] - '0');
  return n;
}

}  // namespace

bool is_valid_send_time(std::string_view s) {
  if (s.size() != 16 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':') return false;
  if (!digits(s, 0, 4) || !digits(s, 5, 2) || !digits(s, 8, 2) || !digits(s, 11, 2) || !digits(s, 14, 2)) return false;
  int year = number(s, 0, 4), month = number(s, 5, 2), day = number(s, 8, 2);
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int days = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  return day <= days && number(s, 11, 2) < 24 && number(s, 14, 2) < 60;
}

bool is_valid_utc_offset(std::string_view s) {
  if (s.size() != 5 || (s[0] != '+' && s[0] != '-') || !digits(s, 1, 4)) return false;
  int hours = number(s, 1, 2), minutes = number(s, 3, 2);
  return hours <= 14 && (minutes == 0 || minutes == 15 || minutes == 30 || minutes == 45);
}

bool is_valid_window_time(std::string_view s) {
  return s.size() == 4 && digits(s, 0, 4) && number(s, 0, 2) < 24 && number(s, 2, 2) < 60;
}

namespace {

// ---- Transactional Messaging ----------------------------------------------

void transactional_rules(const OperationInfo& op, const Value& body, Report& report) {
  bool single = op.operation == Operation::TransactionalSmsSendOne;
  const char* wanted = single ? "recipient" : "recipients";
  const char* other = single ? "recipients" : "recipient";
  if (body.HasMember(other))
    report(std::string("/body/") + other,
           std::string(other) + " is not allowed on " + std::string(op.name) + ": use " + wanted);
  if (!body.HasMember(wanted) && !body.HasMember(other)) report("/body", std::string(wanted) + " is required");

  // Keys must be unique within the request, or SFMC rejects the message.
  auto recipients = body.FindMember("recipients");
  if (single || recipients == body.MemberEnd() || !recipients->value.IsArray()) return;
  std::set<std::string_view> seen;
  const auto& list = recipients->value;
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    if (!list[i].IsObject()) continue;
    auto key = list[i].FindMember("messageKey");
    if (key == list[i].MemberEnd() || !key->value.IsString()) continue;
    std::string_view k(key->value.GetString(), key->value.GetStringLength());
    if (!seen.insert(k).second)
      report("/body/recipients/" + std::to_string(i) + "/messageKey",
             "messageKey " + std::string(k) + " is used by more than one recipient");
  }
}

// ---- MobileConnect ---------------------------------------------------------

void check_phone(std::string_view number, const std::string& pointer, Report& report) {
  if (number.empty()) {
    report(pointer, "Invalid phone number");
    return;
  }
  for (char c : number)
    if (c < '0' || c > '9') {
      report(pointer, std::string(number) + " is not a numeric string");
      return;
    }
  if (number.size() > 15) report(pointer, "Invalid phone number");  // E.164 has at most 15 digits
}

void blackout_window_rules(const Value& body, Voice voice, Report& report) {
  Field window = field(body, "blackoutWindow", "/body");
  if (!window || !window.value->IsObject()) return;
  struct Part {
    const char* name;
    const char* missing;
    const char* what;
    bool (*valid)(std::string_view);
  };
  static constexpr Part kParts[] = {
      {"UtcOffset", "A UTC offset must be specified when using a blackout window.", "UTC offset", is_valid_utc_offset},
      {"WindowStart", "A window start time must be specified when using a blackout window.",
       "blackout window start time", is_valid_window_time},
      {"WindowEnd", "A window end time must be specified when using a blackout window.", "blackout window end time",
       is_valid_window_time},
  };
  for (const auto& part : kParts) {
    Field f = field(*window.value, part.name, window.pointer);
    auto value = text(f);
    if (!f || (value && is_blank(*value))) report(window.pointer, part.missing);
    else if (value && !part.valid(*value))
      report(f.pointer, std::string(*value) + " " + voice.is_not + " a valid " + part.what + ".");
  }
}

void send_time_rule(const Value& body, Voice voice, Report& report) {
  Field send_time = field(body, "sendTime", "/body");
  if (auto value = text(send_time); value && !is_valid_send_time(*value))
    report(send_time.pointer, std::string(*value) + " " + voice.is_not + " a valid send time (yyyy-MM-dd HH:mm).");
}

// Both MobileConnect routes: an override flag and the text it needs.
void message_text_rules(const Value& body, const char* flag_name, const char* text_name, const char* not_applicable,
                        Report& report) {
  bool override_text = is_true(field(body, flag_name, "/body"));
  Field message_text = field(body, text_name, "/body");
  auto message = text(message_text);
  if (override_text && (!message || is_blank(*message)))
    report(message_text ? message_text.pointer : "/body", "Cannot override message text with a blank message.");
  if (!override_text && message_text) report(message_text.pointer, not_applicable);
}

void message_contact_rules(const Value& body, Report& report) {
  Field numbers = field(body, "mobileNumbers", "/body");
  Field subscribers = field(body, "Subscribers", "/body");
  bool has_numbers = numbers && numbers.value->IsArray() && !numbers.value->Empty();
  bool has_subscribers = subscribers && subscribers.value->IsArray() && !subscribers.value->Empty();
  if (has_numbers && has_subscribers)
    report("/body", "An array of mobile numbers and an array of subscribers cannot be provided at the same time.");
  if (!has_numbers && !has_subscribers) report("/body", "The count of mobile numbers or subscribers cannot be zero.");

  if (has_numbers) {
    for (rapidjson::SizeType i = 0; i < numbers.value->Size(); ++i) {
      const Value& n = (*numbers.value)[i];
      if (n.IsString()) check_phone({n.GetString(), n.GetStringLength()}, numbers.pointer + "/" + std::to_string(i), report);
    }
  }
  if (has_subscribers) {
    for (rapidjson::SizeType i = 0; i < subscribers.value->Size(); ++i) {
      const Value& s = (*subscribers.value)[i];
      std::string at = subscribers.pointer + "/" + std::to_string(i);
      if (!s.IsObject()) continue;  // the schema reports the type
      Field mobile = field(s, "MobileNumber", at);
      auto number = text(mobile);
      auto key = text(field(s, "SubscriberKey", at));
      if (!number || is_blank(*number) || !key || is_blank(*key))
        report(at, "A subscriber object must have both a mobile number and subscriber key defined.");
      if (number && !is_blank(*number)) check_phone(*number, mobile.pointer, report);
    }
  }

  bool subscribing = is_true(field(body, "subscribe", "/body")) || is_true(field(body, "resubscribe", "/body"));
  Field keyword = field(body, "keyword", "/body");
  auto keyword_text = text(keyword);
  bool has_keyword = keyword_text && !is_blank(*keyword_text);
  if (subscribing && !has_keyword) report("/body", "Keyword cannot be blank when Subscribe or Resubscribe are true.");
  if (!subscribing && has_keyword)
    report(keyword.pointer, "Keyword is not necessary when Subscribe and Resubscribe are false.");

  message_text_rules(body, "override", "messageText", "MessageText is not applicable when Override is false.",
                     report);
  blackout_window_rules(body, kMessageContactVoice, report);
  send_time_rule(body, kMessageContactVoice, report);
}

// TargetListIds/ExclusionListIds and their Override flags follow one pattern.
void list_override_rules(const Value& body, const char* ids_name, const char* flag_name, const char* count_zero,
                         const char* not_applicable, const char* nothing_to_override, Report& report) {
  Field ids = field(body, ids_name, "/body");
  bool override_lists = is_true(field(body, flag_name, "/body"));
  if (ids && ids.value->IsArray()) {
    if (ids.value->Empty()) report(ids.pointer, count_zero);
    else if (!override_lists) report(ids.pointer, not_applicable);
  }
  if (override_lists && !ids) report("/body", nothing_to_override);
}

void message_list_rules(const Value& body, Report& report) {
  list_override_rules(body, "TargetListIds", "OverrideTemplateTargetLists", "The count of Target List IDs can't be zero.",
                      "TargetListIds isn't applicable when OverrideTemplateTargetLists is false.",
                      "Cannot override template target lists when no target list ids are specified.", report);
  // With IgnoreExclusionLists true, its own two sentences say what is wrong
  // with the exclusion settings; the override sentences would repeat them.
  if (!is_true(field(body, "IgnoreExclusionLists", "/body"))) {
    list_override_rules(body, "ExclusionListIds", "OverrideTemplateExclusionLists",
                        "The count of Exclusion List IDs can't be zero.",
                        "ExclusionListIds isn't applicable when OverrideTemplateExclusionLists is false.",
                        "Cannot override template exclusion lists when no exclusion list ids are specified.", report);
  } else {
    Field exclusions = field(body, "ExclusionListIds", "/body");
    if (exclusions && exclusions.value->IsArray() && !exclusions.value->Empty())
      report(exclusions.pointer, "Exclusion list ids can't be specified when IgnoreExclusionLists is true.");
    Field override_exclusions = field(body, "OverrideTemplateExclusionLists", "/body");
    if (is_true(override_exclusions))
      report(override_exclusions.pointer, "OverrideTemplateExclusionLists can't be true when IgnoreExclusionLists is true.");
  }

  message_text_rules(body, "OverrideMessageText", "MessageText",
                     "MessageText isn't applicable when OverrideMessageText is false.", report);
  blackout_window_rules(body, kMessageListVoice, report);
  send_time_rule(body, kMessageListVoice, report);
}

}  // namespace

void check_body_rules(Operation operation, const Value& body, std::vector<ErrorDetail>& errors) {
  if (!body.IsObject()) return;  // the schema reports it
  Report report(errors);
  switch (operation) {
    case Operation::TransactionalSmsSend:
    case Operation::TransactionalSmsSendOne:
    case Operation::TransactionalEmailSend: transactional_rules(info(operation), body, report); return;
    case Operation::MessageContactSend: message_contact_rules(body, report); return;
    case Operation::MessageListSend: message_list_rules(body, report); return;
  }
}

}  // namespace sfmc
