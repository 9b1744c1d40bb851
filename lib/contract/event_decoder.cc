#include "contract/event_decoder.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "contract/embedded_schemas.h"
#include "sfmc/operations.h"

namespace sfmc {

std::string default_event_id(const InputCoordinates& input) {
  return input.topic + "/" + std::to_string(input.partition) + "/" + std::to_string(input.offset);
}

EventDecoder::EventDecoder() : envelope_(schemas::kEvent) {}

namespace {

std::string string_member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return {};
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

// Path parameters a schema cannot tie to the operation: each route takes
// exactly the one it documents.
void check_path_parameters(const OperationInfo& op, const rapidjson::Value& event, std::vector<ErrorDetail>& errors) {
  for (const char* field : {"messageKey", "messageId"}) {
    bool present = event.HasMember(field);
    bool wanted = op.path_parameter == field;
    if (wanted && !present)
      errors.push_back({std::string(op.name) + " needs \"" + field + "\" (its path parameter)", "", std::nullopt, {}});
    if (!wanted && present)
      errors.push_back({std::string("\"") + field + "\" is not a path parameter of " + std::string(op.name),
                        std::string("/") + field, std::nullopt, {}});
  }
}

}  // namespace

Decoded EventDecoder::decode(const InboundEvent& event) {
  InvalidEvent invalid{default_event_id(event.input), {}, "default", {}};
  rapidjson::Document doc;
  doc.Parse(event.value.data(), event.value.size());
  if (doc.HasParseError()) {
    invalid.errors.push_back({std::string("event value is not valid JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) +
                                  " (at byte " + std::to_string(doc.GetErrorOffset()) + ")",
                              "", std::nullopt, {}});
    return invalid;
  }
  if (auto id = string_member(doc, "id"); !id.empty()) invalid.id = id;
  if (auto account = string_member(doc, "account"); !account.empty()) invalid.account = account;
  invalid.operation = string_member(doc, "operation");

  envelope_.validate(doc, "", invalid.errors);
  auto operation = operation_from_name(invalid.operation);
  if (operation && doc.IsObject()) check_path_parameters(info(*operation), doc, invalid.errors);
  if (!invalid.errors.empty()) return invalid;

  const auto& op = info(*operation);
  rapidjson::StringBuffer body;
  rapidjson::Writer<rapidjson::StringBuffer> writer(body);
  doc["body"].Accept(writer);
  return SendRequest{invalid.id, *operation, invalid.account,
                     op.path_parameter.empty() ? std::string() : string_member(doc, std::string(op.path_parameter).c_str()),
                     std::string(body.GetString(), body.GetSize())};
}

}  // namespace sfmc
