// Reading SFMC bodies the way the API does: MobileConnect keys match without
// regard to case, and its booleans may be the strings "true"/"false".
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

namespace sfmc {

struct Field {
  const rapidjson::Value* value = nullptr;
  std::string pointer;  // the key as spelled in the event
  explicit operator bool() const { return value != nullptr; }
};

// The member whose name equals `name` ignoring ASCII case; `at` is the
// object's pointer.
Field field(const rapidjson::Value& object, std::string_view name, const std::string& at);

// true/false/"true"/"false" (any case); nullopt when absent or not a flag.
std::optional<bool> flag(const Field& f);
inline bool is_true(const Field& f) { return flag(f).value_or(false); }

// A string's value, nullopt for absent or non-string.
std::optional<std::string_view> text(const Field& f);
bool is_blank(std::string_view text);

}  // namespace sfmc
