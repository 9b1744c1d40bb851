#include "sim_transactional.h"

#include <httplib.h>

#include <optional>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "sim_errors.h"
#include "sim_json.h"

namespace sfmc::sim {
namespace {

// One recipient's fate: the messageKey SFMC reports for it and, when it was
// refused, the code and detail of the per-recipient error.
struct Outcome {
  const rapidjson::Value* recipient = nullptr;
  std::string message_key;
  bool key_given = false;  // generated keys cannot repeat, so skip that check
  std::optional<TmCode> error;
  std::string detail;
};

Reply request_error(TmCode code, std::string_view detail) {
  return Reply{http_status_for_rest_code(code.code), json::rest_error(code.code, tm_message(code, detail)), {}};
}

Outcome refuse(Outcome outcome, TmCode code, std::string_view detail) {
  outcome.error = code;
  outcome.detail = detail;
  return outcome;
}

// messageKey rules [doc]: ≤ 100 characters, any characters.
Outcome resolve_key(const rapidjson::Value& recipient, const std::string* path_key, IdGenerator& ids) {
  Outcome outcome;
  const rapidjson::Value* given = path_key != nullptr ? nullptr : json::member(recipient, "messageKey");
  if (path_key != nullptr) {
    outcome.message_key = *path_key;
  } else if (given == nullptr || given->IsNull()) {
    outcome.message_key = ids.message_key();
    return outcome;
  } else if (!given->IsString()) {
    outcome.message_key = ids.message_key();
    return refuse(std::move(outcome), tm::kInvalidMessageKey, "messageKey must be a string");
  } else {
    outcome.message_key = json::string_view_of(*given);
  }
  outcome.key_given = true;
  if (outcome.message_key.empty() || outcome.message_key.size() > tm::kMaxMessageKeyLength) {
    return refuse(std::move(outcome), tm::kInvalidMessageKey, "messageKey must be 1 to 100 characters");
  }
  return outcome;
}

// Field checks from the seeds' tables: SMS needs "to"; email needs
// "contactKey" and takes "to" as optional.
Outcome check_fields(Outcome outcome, const rapidjson::Value& recipient, Channel channel) {
  if (!recipient.IsObject()) {
    return refuse(std::move(outcome), tm::kMissingTo, tm::kInvalidSubscriber);
  }
  const auto* to = json::member(recipient, "to");
  if (channel == Channel::kSms && json::is_blank(to)) {
    return refuse(std::move(outcome), tm::kMissingTo, tm::kInvalidSubscriber);
  }
  if (to != nullptr && !to->IsNull() && !to->IsString()) {
    return refuse(std::move(outcome), tm::kInvalidTo, "to must be a string");
  }
  const auto* contact_key = json::member(recipient, "contactKey");
  if (channel == Channel::kEmail && json::is_blank(contact_key)) {
    return refuse(std::move(outcome), tm::kMissingSubscriberKey, tm::kInvalidSubscriber);
  }
  if (contact_key != nullptr && !contact_key->IsNull() && !contact_key->IsString()) {
    return refuse(std::move(outcome), tm::kInvalidSubscriberKey, "contactKey must be a string");
  }
  return outcome;
}

std::string string_member(const rapidjson::Value& object, std::string_view name) {
  const auto* value = json::member(object, name);
  return value != nullptr && value->IsString() ? std::string(json::string_view_of(*value)) : std::string();
}

// For GET /messaging/v1/{channel}/messages/{messageKey}.
// And for the ENS feed, when there is one.
void remember_accepted(const std::vector<Outcome>& outcomes, Channel channel, const std::string& request_id,
                       TimePoint now, StatusStore& statuses, EnsFeed* ens, EnsRegistry* registry) {
  std::vector<std::pair<std::string, MessageRecord>> records;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const auto& outcome = outcomes[i];
    if (outcome.error) continue;
    records.emplace_back(outcome.message_key,
                         MessageRecord{channel, string_member(*outcome.recipient, "contactKey"),
                                       string_member(*outcome.recipient, "to"),
                                       request_id + "." + std::to_string(i + 1), now});
  }
  if (records.empty()) return;
  if (ens != nullptr) ens->accepted(records);
  if (registry != nullptr) registry->accepted(records);
  statuses.remember_messages(std::move(records));
}

// Shared by the batch and single routes; `path_key` is set on the latter.
Reply send(const httplib::Request& request, Channel channel, const std::string* path_key, SimContext& context) {
  rapidjson::Document body;
  if (!json::parse(request.body, body) || !body.IsObject()) {
    return Reply{400, json::rest_error(rest::kBadRequest, "The request body must be a JSON object."), {}};
  }
  // recipient only with a key in the URL, recipients only on the batch route [seen].
  const std::string_view wrong_field = path_key != nullptr ? "recipients" : "recipient";
  if (json::member(body, wrong_field) != nullptr) {
    return request_error(tm::kUnknownFieldName, wrong_field);
  }
  const auto* definition_key = json::member(body, "definitionKey");
  if (json::is_blank(definition_key) || !definition_key->IsString()) {
    return request_error(tm::kInvalidDefinitionKey, "definitionKey is required");
  }

  std::vector<const rapidjson::Value*> recipients;
  if (path_key != nullptr) {
    const auto* recipient = json::member(body, "recipient");
    if (recipient == nullptr || !recipient->IsObject()) {
      return request_error(tm::kNoSubscribers, "recipient");
    }
    recipients.push_back(recipient);
  } else {
    const auto* list = json::member(body, "recipients");
    if (list == nullptr || !list->IsArray() || list->Empty()) {
      return request_error(tm::kNoSubscribers, "recipients");
    }
    if (channel == Channel::kEmail && list->Size() > tm::kMaxEmailRecipients) {
      return request_error(tm::kTooManySubscribers, std::to_string(list->Size()) + " recipients exceed the limit of " +
                                                        std::to_string(tm::kMaxEmailRecipients));
    }
    for (const auto& recipient : list->GetArray()) {
      recipients.push_back(&recipient);
    }
  }

  const auto now = context.clock();
  std::unordered_set<std::string> keys_in_request;
  std::vector<Outcome> outcomes;
  outcomes.reserve(recipients.size());
  std::size_t failed = 0;
  for (const auto* recipient : recipients) {
    Outcome outcome = resolve_key(*recipient, path_key, context.ids);
    outcome.recipient = recipient;
    if (!outcome.error) {
      outcome = check_fields(std::move(outcome), *recipient, channel);
    }
    const bool repeated = outcome.key_given && !keys_in_request.insert(outcome.message_key).second;
    if (!outcome.error && repeated) {
      outcome = refuse(std::move(outcome), tm::kDuplicateMessageKey, tm::kKeyRepeatedInRequest);
    }
    // Claimed last, so a recipient refused for another reason leaves its key usable.
    if (!outcome.error && !context.message_keys.claim(outcome.message_key, now)) {
      outcome = refuse(std::move(outcome), tm::kDuplicateMessageKey, tm::kReusedKey);
    }
    failed += outcome.error ? 1 : 0;
    outcomes.push_back(std::move(outcome));
  }

  if (failed == outcomes.size() && context.options.reject_when_no_valid_recipients) {
    return request_error(tm::kNoValidSubscribers, "no recipient could be queued");
  }

  const std::string request_id = context.ids.request_id();
  remember_accepted(outcomes, channel, request_id, now, context.statuses, context.ens, context.ens_registry);

  json::Writer out;
  out.begin_object().str_field("requestId", request_id);
  if (failed == 0) {
    out.int_field("errorcode", 0);
  } else {
    out.int_field("errorcode", tm::kResponsesHasErrors.code)
        .str_field("message", tm_message(tm::kResponsesHasErrors,
                                         std::to_string(failed) + " subscribers failed to queue out of " +
                                             std::to_string(outcomes.size())));
  }
  out.key("responses").begin_array();
  for (const auto& outcome : outcomes) {
    out.begin_object().str_field("messageKey", outcome.message_key);
    if (outcome.error) {
      out.int_field("errorcode", outcome.error->code).str_field("message", tm_message(*outcome.error, outcome.detail));
    }
    out.end_object();
  }
  out.end_array().end_object();
  return Reply{202, out.text(), {}};
}

}  // namespace

Reply send_batch(const httplib::Request& request, Channel channel, SimContext& context) {
  return send(request, channel, nullptr, context);
}

Reply send_single(const httplib::Request& request, Channel channel, const std::string& message_key,
                  SimContext& context) {
  return send(request, channel, &message_key, context);
}

}  // namespace sfmc::sim
