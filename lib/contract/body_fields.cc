#include "contract/body_fields.h"

#include <cctype>

#include "contract/schema_validator.h"

namespace sfmc {

namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

}  // namespace

Field field(const rapidjson::Value& object, std::string_view name, const std::string& at) {
  if (!object.IsObject()) return {};
  for (const auto& m : object.GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    if (equals_ignoring_case(key, name)) return {&m.value, at + "/" + pointer_token(key)};
  }
  return {};
}

std::optional<bool> flag(const Field& f) {
  if (!f) return std::nullopt;
  if (f.value->IsBool()) return f.value->GetBool();
  if (f.value->IsString()) {
    std::string_view s(f.value->GetString(), f.value->GetStringLength());
    if (equals_ignoring_case(s, "true")) return true;
    if (equals_ignoring_case(s, "false")) return false;
  }
  return std::nullopt;
}

std::optional<std::string_view> text(const Field& f) {
  if (!f || !f.value->IsString()) return std::nullopt;
  return std::string_view(f.value->GetString(), f.value->GetStringLength());
}

bool is_blank(std::string_view text) {
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace sfmc
