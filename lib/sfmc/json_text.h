// SFMC's words in its JSON answers and events, read as text.
#pragma once

#include <rapidjson/document.h>

#include <string>

namespace sfmc {

// The member `name` of `object` as text: a string as it is, an integer
// written out (SFMC gives codes as either); empty when absent or another type.
inline std::string text_of(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd()) return {};
  if (it->value.IsString()) return {it->value.GetString(), it->value.GetStringLength()};
  if (it->value.IsInt64()) return std::to_string(it->value.GetInt64());
  return {};
}

}  // namespace sfmc
