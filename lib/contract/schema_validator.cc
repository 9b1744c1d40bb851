#include "contract/schema_validator.h"

#include <valijson/adapters/rapidjson_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <optional>
#include <set>
#include <stdexcept>

namespace sfmc {

struct SchemaValidator::Impl {
  rapidjson::Document schema_doc;
  std::optional<rapidjson::SchemaDocument> fast_schema;
  std::optional<rapidjson::SchemaValidator> fast;
  valijson::Schema schema;
  valijson::Validator validator;
};

SchemaValidator::SchemaValidator(std::string_view schema_json) : impl_(std::make_unique<Impl>()) {
  impl_->schema_doc.Parse(schema_json.data(), schema_json.size());
  if (impl_->schema_doc.HasParseError()) throw std::runtime_error("schema is not valid JSON");
  impl_->fast_schema.emplace(impl_->schema_doc);
  impl_->fast.emplace(*impl_->fast_schema);
  valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
  valijson::adapters::RapidJsonAdapter adapter(impl_->schema_doc);
  parser.populateSchema(adapter, impl_->schema);
}

SchemaValidator::~SchemaValidator() = default;

std::string pointer_token(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

namespace {

using rapidjson::Value;

const Value* member(const Value* object, const char* name) {
  if (object == nullptr || !object->IsObject()) return nullptr;
  auto it = object->FindMember(name);
  return it == object->MemberEnd() ? nullptr : &it->value;
}

// Where a violation is: its pointer, and the (sub)schema that applies there,
// found by walking properties/additionalProperties/items (our schemas use no
// $ref).
struct Location {
  std::string pointer;
  const Value* schema = nullptr;
};

// valijson's context is {"<root>", "[name]", "[3]", ...}; "[3]" may be an
// array index or a property called "3", so walk the document to tell.
Location locate(const std::vector<std::string>& context, const Value& root, const Value& schema_root,
                std::string_view base) {
  Location where{std::string(base), &schema_root};
  const Value* at = &root;
  for (size_t i = 1; i < context.size(); ++i) {
    const std::string& part = context[i];
    if (part.size() < 2 || part.front() != '[' || part.back() != ']') break;
    std::string token = part.substr(1, part.size() - 2);
    where.pointer += '/';
    where.pointer += pointer_token(token);
    if (at != nullptr && at->IsArray()) {
      size_t index = std::strtoul(token.c_str(), nullptr, 10);
      at = index < at->Size() ? &(*at)[static_cast<rapidjson::SizeType>(index)] : nullptr;
      where.schema = member(where.schema, "items");
    } else if (at != nullptr && at->IsObject()) {
      auto found = at->FindMember(rapidjson::StringRef(token.data(), token.size()));
      at = found != at->MemberEnd() ? &found->value : nullptr;
      const Value* property = member(member(where.schema, "properties"), token.c_str());
      where.schema = property ? property : member(where.schema, "additionalProperties");
    } else {
      at = nullptr;
      where.schema = nullptr;
    }
  }
  return where;
}

std::string compact(const Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

bool starts_with(const std::string& text, std::string_view prefix) { return text.rfind(prefix, 0) == 0; }

// The schema's own bound, as written there ("1", not valijson's "1.000000").
std::string bound(const Value* schema, const char* keyword) {
  const Value* value = member(schema, keyword);
  return value ? compact(*value) : "?";
}

std::string at_least(const Value* schema, const char* keyword, std::string_view things) {
  std::string n = bound(schema, keyword);
  return n == "1" ? "must not be empty" : "must have at least " + n + " " + std::string(things);
}

std::string at_most(const Value* schema, const char* keyword, std::string_view things) {
  return "must have at most " + bound(schema, keyword) + " " + std::string(things);
}

// The property names each oneOf branch requires, e.g. {{"a"}, {"b"}}; empty
// unless every branch is only a "required" list.
std::vector<std::vector<std::string>> alternatives(const Value* schema) {
  std::vector<std::vector<std::string>> out;
  const Value* branches = member(schema, "oneOf");
  if (branches == nullptr || !branches->IsArray()) return {};
  for (const auto& branch : branches->GetArray()) {
    const Value* required = member(&branch, "required");
    if (required == nullptr || branch.MemberCount() != 1) return {};
    auto& names = out.emplace_back();
    for (const auto& name : required->GetArray()) names.emplace_back(name.GetString());
  }
  return out;
}

std::string join(const std::vector<std::vector<std::string>>& alternatives, std::string_view last) {
  std::string out;
  for (size_t i = 0; i < alternatives.size(); ++i) {
    out += i == 0 ? "" : i + 1 == alternatives.size() ? last : ", ";
    for (size_t j = 0; j < alternatives[i].size(); ++j) out += (j == 0 ? "" : " and ") + alternatives[i][j];
  }
  return out;
}

constexpr std::string_view kNoneOf = "Failed to validate against any child schemas allowed by oneOf constraint.";
constexpr std::string_view kNotOnlyOne = "Failed to validate against exactly one child schema";

// valijson's sentences name the constraint, not the fix: say what is wanted,
// using the schema, and point at the offending member itself.
void explain(ErrorDetail& e, const Value* schema) {
  constexpr std::string_view kUnknown =
      "Object contains a property that could not be validated using 'properties' or 'additionalProperties' "
      "constraints: '";
  constexpr std::string_view kRequired = "Missing required property '";
  const std::string& m = e.message;
  if (starts_with(m, kUnknown) && m.size() > kUnknown.size() + 2) {
    std::string name = m.substr(kUnknown.size(), m.size() - kUnknown.size() - 2);
    e.pointer += "/" + pointer_token(name);
    e.message = "unknown field \"" + name + "\"";
  } else if (starts_with(m, kRequired) && m.size() > kRequired.size() + 2) {
    e.message = "\"" + m.substr(kRequired.size(), m.size() - kRequired.size() - 2) + "\" is required";
  } else if (starts_with(m, "Value type not permitted by 'type' constraint")) {
    if (const Value* type = member(schema, "type"))
      e.message = "must be of type " + (type->IsString() ? type->GetString() : compact(*type));
  } else if (starts_with(m, "Failed to match against any enum values")) {
    if (const Value* values = member(schema, "enum")) {
      e.message = "must be one of ";
      for (const auto& v : values->GetArray()) e.message += (&v == values->Begin() ? "" : ", ") + compact(v);
    }
  } else if (starts_with(m, "Failed to match expected value set by 'const' constraint")) {
    e.message = "must be " + bound(schema, "const");
  } else if (starts_with(m, "Expected number greater than or equal to ")) {
    e.message = "must be at least " + bound(schema, "minimum");
  } else if (starts_with(m, "Expected number greater than ")) {
    e.message = "must be greater than " + bound(schema, "exclusiveMinimum");
  } else if (starts_with(m, "Expected number less than or equal to ")) {
    e.message = "must be at most " + bound(schema, "maximum");
  } else if (starts_with(m, "Expected number less than ")) {
    e.message = "must be less than " + bound(schema, "exclusiveMaximum");
  } else if (starts_with(m, "String should be no fewer than ")) {
    e.message = at_least(schema, "minLength", "characters");
  } else if (starts_with(m, "String should be no more than ")) {
    e.message = at_most(schema, "maxLength", "characters");
  } else if (starts_with(m, "Array should contain no fewer than ")) {
    e.message = at_least(schema, "minItems", "items");
  } else if (starts_with(m, "Array should contain no more than ")) {
    e.message = at_most(schema, "maxItems", "items");
  } else if (starts_with(m, "Object should have no fewer than ")) {
    e.message = at_least(schema, "minProperties", "entries");
  } else if (starts_with(m, "Object should have no more than ")) {
    e.message = at_most(schema, "maxProperties", "entries");
  } else if (starts_with(m, "Failed to match regex specified by 'pattern' constraint")) {
    // A pattern cannot explain itself: the schema says what it stands for.
    const Value* wanted = member(schema, "errorMessage");
    e.message = wanted && wanted->IsString() ? wanted->GetString() : "must match " + bound(schema, "pattern");
  } else if (m == kNoneOf || starts_with(m, kNotOnlyOne)) {
    auto names = alternatives(schema);
    if (names.empty())
      e.message = "must match exactly one of the forms the schema allows";
    else
      e.message = m == kNoneOf ? "set " + join(names, " or ") : "set only one of " + join(names, " and ");
  }
}

// A failed oneOf of "required" branches repeats each branch's "is required"
// before its own line: its one sentence names them all, so drop those.
void drop_alternatives(std::vector<ErrorDetail>& errors, size_t from, const std::string& pointer, const Value* schema) {
  std::set<std::string> repeated;
  for (const auto& branch : alternatives(schema))
    for (const auto& name : branch) repeated.insert("\"" + name + "\" is required");
  errors.erase(std::remove_if(errors.begin() + static_cast<std::ptrdiff_t>(from), errors.end(),
                              [&](const ErrorDetail& e) { return e.pointer == pointer && repeated.contains(e.message); }),
               errors.end());
}

// valijson also reports every enclosing schema that failed because a nested
// one did; those lines repeat the nested error, so keep only the leaves.
bool is_wrapper_error(const std::string& description) {
  return starts_with(description, "Failed to validate against schema associated with property name") ||
         starts_with(description, "Failed to validate against schema associated with pattern") ||
         starts_with(description, "Failed to validate item #") ||
         starts_with(description, "Failed to validate against child schema") ||
         starts_with(description, "Failed to validate against additional properties schema") ||
         starts_with(description, "Failed to validate against additional items schema");
}

}  // namespace

bool SchemaValidator::accepted_by_rapidjson(const rapidjson::Value& value) {
  impl_->fast->Reset();
  return value.Accept(*impl_->fast);
}

bool SchemaValidator::accepted_by_valijson(const rapidjson::Value& value) {
  valijson::adapters::RapidJsonAdapter target(value);
  return impl_->validator.validate(impl_->schema, target, nullptr);
}

bool SchemaValidator::validate(const rapidjson::Value& value, std::string_view base,
                               std::vector<ErrorDetail>& errors) {
  if (accepted_by_rapidjson(value)) return true;

  valijson::ValidationResults results;
  valijson::adapters::RapidJsonAdapter target(value);
  if (impl_->validator.validate(impl_->schema, target, &results)) return true;
  valijson::ValidationResults::Error error;
  size_t before = errors.size();
  while (results.popError(error)) {
    if (is_wrapper_error(error.description)) continue;
    Location where = locate(error.context, value, impl_->schema_doc, base);
    ErrorDetail detail{error.description, where.pointer, std::nullopt, {}};
    if (error.description == kNoneOf) drop_alternatives(errors, before, detail.pointer, where.schema);
    explain(detail, where.schema);
    errors.push_back(std::move(detail));
  }
  // Never report "invalid" with an empty list: fall back to RapidJSON's finding.
  if (errors.size() == before) {
    rapidjson::StringBuffer pointer;
    impl_->fast->GetInvalidDocumentPointer().Stringify(pointer);
    errors.push_back({std::string("violates the schema's \"") + impl_->fast->GetInvalidSchemaKeyword() + "\" rule",
                      std::string(base) + pointer.GetString(), std::nullopt, {}});
  }
  return false;
}

}  // namespace sfmc
