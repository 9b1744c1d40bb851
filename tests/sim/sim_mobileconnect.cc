#include "sim_mobileconnect.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <string_view>
#include <vector>

#include "contract/body_fields.h"
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
  void add(std::string_view sentence, std::string_view argument) { add(fill(sentence, argument)); }
  // The shared contract's findings. Rule sentences are SFMC's own and stand
  // alone; schema findings ("must be of type string") need their location
  // [sim: SFMC documents no sentence for them].
  void add_all(const BodyContract::Findings& findings) {
    for (const auto& rule : findings.rules) add(rule.message);
    for (const auto& schema : findings.schema) {
      add(schema.pointer.empty() ? schema.message : schema.pointer + ": " + schema.message);
    }
  }
  bool empty() const { return list_.empty(); }
  const std::vector<std::string>& list() const { return list_; }

 private:
  std::vector<std::string> list_;
};

// List ids that cannot exist ("Target list id [x] is invalid.", seed 004).
void check_list_ids(const Value& body, std::string_view name, std::string_view invalid, Errors& errors) {
  const Field ids = field(body, name, "");
  if (!ids || !ids.value->IsArray()) return;  // the schema reports the type, the rules an empty array
  for (const auto& id : ids.value->GetArray()) {
    if (id.IsString() && !is_encoded_id(json::string_view_of(id))) errors.add(invalid, json::string_view_of(id));
  }
}

std::vector<std::string> mobile_numbers(const Value& body) {
  std::vector<std::string> numbers;
  if (const Field list = field(body, "mobileNumbers", ""); list && list.value->IsArray()) {
    for (const auto& number : list.value->GetArray()) {
      if (number.IsString()) numbers.emplace_back(json::string_view_of(number));
    }
  }
  if (const Field subscribers = field(body, "Subscribers", ""); subscribers && subscribers.value->IsArray()) {
    for (const auto& subscriber : subscribers.value->GetArray()) {
      if (const auto number = text(field(subscriber, "MobileNumber", ""))) numbers.emplace_back(*number);
    }
  }
  return numbers;
}

// The text the deliveries route reports: the override when there is one.
std::string message_text(const Value& body, std::string_view flag_name, const std::string& message_id) {
  if (is_true(field(body, flag_name, ""))) {
    if (const auto text_value = text(field(body, "messageText", ""))) return std::string(*text_value);
  }
  return "Message " + message_id;  // [sim] the template's text is SFMC's data
}

struct Route {
  Operation operation;
  MobileConnectRoute kind;
  std::string_view invalid_message_id;  // the route's own wording (seed 003 "is not", seed 004 "isn't")
  std::string_view override_flag;
};

constexpr Route kMessageContact{Operation::MessageContactSend, MobileConnectRoute::kMessageContact,
                                mc::kInvalidMessageId, "override"};
constexpr Route kMessageList{Operation::MessageListSend, MobileConnectRoute::kMessageList, mc::kListInvalidMessageId,
                             "OverrideMessageText"};

Reply send(const Route& route, const httplib::Request& request, const std::string& message_id, SimContext& context) {
  Errors errors;
  if (!is_encoded_id(message_id)) errors.add(route.invalid_message_id, message_id);
  rapidjson::Document body;
  if (!json::parse(request.body, body) || !body.IsObject()) {
    errors.add(std::string(mc::kBodyNotJsonObject));
    return Reply{400, json::mc_errors(errors.list()), {}};
  }
  errors.add_all(context.contract.check(route.operation, body));
  if (route.kind == MobileConnectRoute::kMessageList) {
    check_list_ids(body, "TargetListIds", mc::kInvalidTargetList, errors);
    check_list_ids(body, "ExclusionListIds", mc::kInvalidExclusionList, errors);
  }
  if (!errors.empty()) return Reply{400, json::mc_errors(errors.list()), {}};

  std::string token_id = context.ids.token_id();
  context.statuses.remember_delivery(
      token_id, DeliveryRecord{route.kind, message_id, message_text(body, route.override_flag, message_id),
                               route.kind == MobileConnectRoute::kMessageContact ? mobile_numbers(body)
                                                                                 : std::vector<std::string>{},
                               context.clock()});
  json::Writer out;
  out.begin_object().str_field("tokenId", token_id).end_object();
  return Reply{202, out.text(), {}};
}

}  // namespace

bool is_encoded_id(std::string_view id) {
  return !id.empty() && id.size() <= 200 && std::all_of(id.begin(), id.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '=' || c == '+';
         });
}

Reply send_message_contact(const httplib::Request& request, const std::string& message_id, SimContext& context) {
  return send(kMessageContact, request, message_id, context);
}

Reply send_message_list(const httplib::Request& request, const std::string& message_id, SimContext& context) {
  return send(kMessageList, request, message_id, context);
}

}  // namespace sfmc::sim
