#include "sim_json.h"

#include <algorithm>
#include <cctype>

namespace sfmc::sim::json {
namespace {

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

Writer& Writer::uint(std::uint64_t value) {
  writer_.Uint64(value);
  return *this;
}

Writer& Writer::number(double value) {
  writer_.Double(value);
  return *this;
}

Writer& Writer::boolean(bool value) {
  writer_.Bool(value);
  return *this;
}

Writer& Writer::null() {
  writer_.Null();
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
