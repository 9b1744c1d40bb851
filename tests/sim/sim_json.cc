#include "sim_json.h"

#include <algorithm>
#include <cctype>

namespace sfmc::sim::json {
namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

rapidjson::SizeType size_of(std::string_view text) { return static_cast<rapidjson::SizeType>(text.size()); }

}  // namespace

bool parse(std::string_view text, rapidjson::Document& document) {
  document.Parse(text.data(), text.size());
  return !document.HasParseError();
}

const rapidjson::Value* member(const rapidjson::Value& object, std::string_view name) {
  if (!object.IsObject()) {
    return nullptr;
  }
  const auto found = object.FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), size_of(name))));
  return found == object.MemberEnd() ? nullptr : &found->value;
}

const rapidjson::Value* member_ci(const rapidjson::Value& object, std::string_view name) {
  if (!object.IsObject()) {
    return nullptr;
  }
  for (const auto& entry : object.GetObject()) {
    if (equals_ignoring_case(string_view_of(entry.name), name)) {
      return &entry.value;
    }
  }
  return nullptr;
}

std::string_view string_view_of(const rapidjson::Value& string_value) {
  return {string_value.GetString(), string_value.GetStringLength()};
}

bool is_blank(const rapidjson::Value* value) {
  if (value == nullptr || value->IsNull()) {
    return true;
  }
  if (!value->IsString()) {
    return false;
  }
  const auto text = string_view_of(*value);
  return std::all_of(text.begin(), text.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

Flag read_flag(const rapidjson::Value* value) {
  if (value == nullptr || value->IsNull()) {
    return Flag::kAbsent;
  }
  if (value->IsBool()) {
    return value->GetBool() ? Flag::kTrue : Flag::kFalse;
  }
  if (value->IsString()) {
    const auto text = string_view_of(*value);
    if (equals_ignoring_case(text, "true")) return Flag::kTrue;
    if (equals_ignoring_case(text, "false")) return Flag::kFalse;
  }
  return Flag::kInvalid;
}

Writer& Writer::begin_object() {
  writer_.StartObject();
  return *this;
}

Writer& Writer::end_object() {
  writer_.EndObject();
  return *this;
}

Writer& Writer::begin_array() {
  writer_.StartArray();
  return *this;
}

Writer& Writer::end_array() {
  writer_.EndArray();
  return *this;
}

Writer& Writer::key(std::string_view name) {
  writer_.Key(name.data(), size_of(name), true);
  return *this;
}

Writer& Writer::string(std::string_view value) {
  writer_.String(value.data(), size_of(value), true);
  return *this;
}

Writer& Writer::integer(std::int64_t value) {
  writer_.Int64(value);
  return *this;
}

std::string rest_error(int errorcode, std::string_view message) {
  Writer out;
  out.begin_object().str_field("message", message).int_field("errorcode", errorcode).str_field("documentation", "");
  return out.end_object().text();
}

std::string oauth_error(std::string_view error, std::string_view description) {
  Writer out;
  out.begin_object().str_field("error", error).str_field("error_description", description).str_field("error_uri", "");
  return out.end_object().text();
}

std::string mc_errors(const std::vector<std::string>& errors) {
  Writer out;
  out.begin_object().key("errors").begin_array();
  for (const auto& error : errors) {
    out.string(error);
  }
  return out.end_array().end_object().text();
}

}  // namespace sfmc::sim::json
