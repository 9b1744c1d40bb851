#include "contract/event_decoder.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <unordered_set>

#include "contract/body_rules.h"
#include "contract/embedded_schemas.h"
#include "core/dead_letter.h"
#include "core/message_keys.h"
#include "core/pooled_document.h"
#include "core/operations.h"

namespace sfmc {

std::string default_event_id(const InputCoordinates& input) {
  return input.topic + "/" + std::to_string(input.partition) + "/" + std::to_string(input.offset);
}

std::optional<size_t> nesting_exceeds(std::string_view json, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return i;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return std::nullopt;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The code unit of a \uXXXX escape starting at `at` (the backslash), or -1.
int escape_unit(std::string_view json, size_t at) {
  if (at + 6 > json.size() || json[at] != '\\' || json[at + 1] != 'u') return -1;
  int unit = 0;
  for (size_t i = at + 2; i < at + 6; ++i) {
    int digit = hex_value(json[i]);
    if (digit < 0) return -1;
    unit = unit * 16 + digit;
  }
  return unit;
}

}  // namespace

namespace {

// The way down to a value: member names and array indexes, made into a JSON
// pointer only when there is something to report.
struct Step {
  std::string_view name;
  rapidjson::SizeType index = 0;
  bool is_index = false;
};

std::string pointer_to(const std::vector<Step>& path) {
  std::string pointer;
  for (const auto& step : path) {
    pointer += '/';  // appended apart: GCC 12 misreads "/" + string (-Wrestrict in Release builds)
    pointer += step.is_index ? std::to_string(step.index) : pointer_token(step.name);
  }
  return pointer;
}

std::string_view name_of(const rapidjson::Value::ConstMemberIterator& m) {
  return {m->name.GetString(), m->name.GetStringLength()};
}

// JSON allows repeated member names, but readers disagree on which one
// counts (we validate the first, SFMC may use the last): refuse them.
void find_repeated_members(const rapidjson::Value& value, std::vector<Step>& path, std::vector<ErrorDetail>& errors) {
  if (value.IsArray()) {
    for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
      path.push_back({{}, i, true});
      find_repeated_members(value[i], path, errors);
      path.pop_back();
    }
    return;
  }
  if (!value.IsObject()) return;
  // Small objects (nearly all) compare names pairwise; large ones hash them.
  constexpr rapidjson::SizeType kPairwise = 32;
  std::unordered_set<std::string_view> seen;
  bool hashing = value.MemberCount() > kPairwise;
  for (auto m = value.MemberBegin(); m != value.MemberEnd(); ++m) {
    std::string_view name = name_of(m);
    bool repeated = false;
    if (hashing) {
      repeated = !seen.insert(name).second;
    } else {
      for (auto earlier = value.MemberBegin(); earlier != m && !repeated; ++earlier) repeated = name_of(earlier) == name;
    }
    path.push_back({name, 0, false});
    // Inside a repeat, a pointer would name the first one's value instead.
    if (repeated) errors.push_back({"member \"" + std::string(name) + "\" appears more than once", pointer_to(path), std::nullopt, {}});
    else find_repeated_members(m->value, path, errors);
    path.pop_back();
  }
}

}  // namespace

std::optional<size_t> unpaired_low_surrogate(std::string_view json) {
  // Most events have no \u escape at all; finding none is a fast search.
  if (json.find("\\u") == std::string_view::npos) return std::nullopt;
  bool in_string = false;
  bool after_high = false;  // the previous escape was a high surrogate
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (!in_string) {
      in_string = c == '"';
      continue;
    }
    if (c == '"') {
      in_string = after_high = false;
    } else if (c == '\\') {
      int unit = escape_unit(json, i);
      if (unit >= 0xDC00 && unit <= 0xDFFF && !after_high) return i;
      after_high = unit >= 0xD800 && unit <= 0xDBFF;
      i += unit >= 0 ? 5 : 1;
    } else {
      after_high = false;
    }
  }
  return std::nullopt;
}

EventDecoder::EventDecoder(DecoderOptions limits) : limits_(limits), envelope_(schemas::kEvent) {
  for (const auto& op : kOperations)
    bodies_[static_cast<size_t>(op.operation)] = std::make_unique<SchemaValidator>(schemas::body(op.operation));
}

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

// The parts of a Transactional body (sfmc::MergeableSend); none when a
// recipient has no messageKey to map SFMC's answer back by, or when a
// sendOne recipient brings its own besides the path's.
std::optional<MergeableSend> take_apart(const OperationInfo& op, const rapidjson::Value& body,
                                        const std::string& path_key) {
  bool single = op.operation == Operation::TransactionalSmsSendOne;
  if (op.operation != Operation::TransactionalSmsSend && op.operation != Operation::TransactionalEmailSend && !single)
    return std::nullopt;
  MergeableSend parts{single ? Operation::TransactionalSmsSend : op.operation, {}, {}, {}};
  // The shared members go to one writer (mid-object throughout), each
  // recipient to another.
  rapidjson::StringBuffer shared;
  rapidjson::Writer<rapidjson::StringBuffer> writer(shared);
  rapidjson::StringBuffer one;
  rapidjson::Writer<rapidjson::StringBuffer> recipient_writer(one);
  auto keep = [&](const rapidjson::Value& recipient, std::string_view key, bool add_key) {
    one.Clear();
    recipient_writer.Reset(one);
    recipient_writer.StartObject();
    if (add_key) {
      recipient_writer.Key("messageKey");
      recipient_writer.String(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    }
    for (auto f = recipient.MemberBegin(); f != recipient.MemberEnd(); ++f) {
      recipient_writer.Key(f->name.GetString(), f->name.GetStringLength());
      f->value.Accept(recipient_writer);
    }
    recipient_writer.EndObject();
    parts.recipients.emplace_back(one.GetString(), one.GetSize());
    parts.message_keys.emplace_back(key);
  };
  writer.StartObject();
  for (auto m = body.MemberBegin(); m != body.MemberEnd(); ++m) {
    std::string_view name = name_of(m);
    if (name == "recipients" && !single) {
      for (const auto& r : m->value.GetArray()) {
        auto key = r.IsObject() ? r.FindMember("messageKey") : r.MemberEnd();
        if (!r.IsObject() || key == r.MemberEnd() || !key->value.IsString()) return std::nullopt;
        keep(r, {key->value.GetString(), key->value.GetStringLength()}, false);
      }
    } else if (name == "recipient" && single) {
      if (!m->value.IsObject() || m->value.HasMember("messageKey")) return std::nullopt;
      keep(m->value, path_key, true);
    } else {
      writer.Key(m->name.GetString(), m->name.GetStringLength());
      m->value.Accept(writer);
    }
  }
  writer.EndObject();
  if (parts.recipients.empty()) return std::nullopt;
  parts.shared.assign(shared.GetString() + 1, shared.GetSize() - 2);  // without the braces
  return parts;
}

void name_unknown_operation(const std::string& operation, std::vector<ErrorDetail>& errors) {
  std::string known;
  for (const auto& op : kOperations) known += (known.empty() ? "" : ", ") + std::string(op.name);
  for (auto& e : errors)
    if (e.pointer == "/operation") e.message = "unknown operation \"" + operation + "\"; expected one of " + known;
}

}  // namespace

std::string event_identity(const InboundEvent& event) {
  const std::string* carried = event.header(dead_letter::kEventId);
  return carried && !carried->empty() ? *carried : default_event_id(event.input);
}

Decoded EventDecoder::decode(const InboundEvent& event) {
  InvalidEvent invalid{event_identity(event), {}, "default", {}, {}};
  auto refuse = [&](const char* reason, std::string message) {
    invalid.reason = reason;
    invalid.errors.push_back({std::move(message), "", std::nullopt, {}});
    return invalid;
  };
  if (event.value.size() > limits_.max_event_bytes)
    return refuse("too_large", "event value is " + std::to_string(event.value.size()) + " bytes; the limit is " +
                  std::to_string(limits_.max_event_bytes));
  // RapidJSON reads a NUL byte as the end of the text: refuse it, or what
  // follows it would be silently ignored.
  if (auto nul = event.value.find('\0'); nul != std::string::npos)
    return refuse("not_json", "event value contains a NUL byte (at byte " + std::to_string(nul) + ")");
  if (auto at = unpaired_low_surrogate(event.value))
    return refuse("not_json", "event value has an unpaired UTF-16 surrogate escape (at byte " + std::to_string(*at) + ")");
  if (auto at = nesting_exceeds(event.value, limits_.max_depth))
    return refuse("too_deep", "event value nests deeper than " + std::to_string(limits_.max_depth) + " levels (at byte " +
                  std::to_string(*at) + ")");

  PooledDocument pooled;
  rapidjson::Document& doc = pooled.doc();
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(event.value.data(), event.value.size());
  if (doc.HasParseError())
    return refuse("not_json", std::string("event value is not valid JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) +
                  " (at byte " + std::to_string(doc.GetErrorOffset()) + ")");
  std::vector<Step> path;
  find_repeated_members(doc, path, invalid.errors);
  if (!invalid.errors.empty()) invalid.reason = "not_json";
  if (auto id = string_member(doc, "id"); !id.empty()) invalid.id = id;
  if (auto account = string_member(doc, "account"); !account.empty()) invalid.account = account;
  invalid.operation = string_member(doc, "operation");

  envelope_.validate(doc, "", invalid.errors);
  if (!invalid.errors.empty() && invalid.reason.empty()) invalid.reason = "envelope";
  auto operation = operation_from_name(invalid.operation);
  if (!operation && doc.IsObject() && doc.HasMember("operation") && doc["operation"].IsString())
    name_unknown_operation(invalid.operation, invalid.errors);
  if (operation && doc.IsObject()) {
    check_path_parameters(info(*operation), doc, invalid.errors);
    if (auto body = doc.FindMember("body"); body != doc.MemberEnd() && body->value.IsObject()) {
      bodies_[static_cast<size_t>(*operation)]->validate(body->value, "/body", invalid.errors);
      if (!invalid.errors.empty() && invalid.reason.empty()) invalid.reason = "body";
      check_body_rules(*operation, body->value, invalid.errors);
      if (!invalid.errors.empty() && invalid.reason.empty()) invalid.reason = "rule";
    }
  }
  if (!invalid.errors.empty()) {
    if (invalid.reason.empty()) invalid.reason = "envelope";  // path parameters
    return invalid;
  }

  const auto& op = info(*operation);
  if (limits_.derive_message_keys) add_derived_message_keys(doc["body"], doc.GetAllocator(), invalid.id);
  rapidjson::StringBuffer body(nullptr, event.value.size() + 512);  // grows no more
  rapidjson::Writer<rapidjson::StringBuffer> writer(body);
  doc["body"].Accept(writer);
  SendRequest request{invalid.id, *operation, invalid.account,
                      op.path_parameter.empty() ? std::string() : string_member(doc, std::string(op.path_parameter).c_str()),
                      std::string(body.GetString(), body.GetSize()), std::nullopt};
  const std::string* redriven = event.header(dead_letter::kRedriveStatus);
  request.may_have_been_sent = redriven && *redriven == "failed";
  if (limits_.prepare_merging) request.mergeable = take_apart(op, doc["body"], request.path_parameter);
  return request;
}

}  // namespace sfmc
