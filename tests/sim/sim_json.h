// Thin helpers over RapidJSON: reading request bodies and writing the
// simulator's response bodies.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sfmc::sim::json {

// False when the text is not one complete JSON document.
bool parse(std::string_view text, rapidjson::Document& document);

// Member lookup on an object; nullptr when absent (or `object` is no object).
// (MobileConnect's case-insensitive reading is the contract's: body_fields.h.)
const rapidjson::Value* member(const rapidjson::Value& object, std::string_view name);

std::string_view string_view_of(const rapidjson::Value& string_value);
// True for a string that is empty or only whitespace; absent counts as blank.
bool is_blank(const rapidjson::Value* value);

// A compact writer; the methods chain.
class Writer {
 public:
  Writer& begin_object();
  Writer& end_object();
  Writer& begin_array();
  Writer& end_array();
  Writer& key(std::string_view name);
  Writer& string(std::string_view value);
  Writer& integer(std::int64_t value);
  Writer& uint(std::uint64_t value);
  Writer& number(double value);
  Writer& boolean(bool value);
  Writer& null();
  Writer& str_field(std::string_view name, std::string_view value) { return key(name).string(value); }
  Writer& int_field(std::string_view name, std::int64_t value) { return key(name).integer(value); }
  Writer& bool_field(std::string_view name, bool value) { return key(name).boolean(value); }
  std::string text() const { return {buffer_.GetString(), buffer_.GetSize()}; }

 private:
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_{buffer_};
};

// {"message":..,"errorcode":..,"documentation":""}: SFMC's generic REST error.
std::string rest_error(int errorcode, std::string_view message);
// {"error":..,"error_description":..,"error_uri":""}: the token endpoint's errors.
std::string oauth_error(std::string_view error, std::string_view description);
// {"errors":[...]}: MobileConnect's 400 body.
std::string mc_errors(const std::vector<std::string>& errors);

}  // namespace sfmc::sim::json
