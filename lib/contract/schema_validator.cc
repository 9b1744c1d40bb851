#include "contract/schema_validator.h"

#include <valijson/adapters/rapidjson_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>
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

// valijson's sentences name the constraint, not the fix: say what is wanted,
// using the schema, and point at the offending member itself.
void explain(ErrorDetail& e, const Value* schema) {
  constexpr std::string_view kUnknown =
      "Object contains a property that could not be validated using 'properties' or 'additionalProperties' "
      "constraints: '";
  constexpr std::string_view kRequired = "Missing required property '";
  if (starts_with(e.message, kUnknown) && e.message.size() > kUnknown.size() + 2) {
    std::string name = e.message.substr(kUnknown.size(), e.message.size() - kUnknown.size() - 2);
    e.pointer += "/" + pointer_token(name);
    e.message = "unknown field \"" + name + "\"";
  } else if (starts_with(e.message, kRequired) && e.message.size() > kRequired.size() + 2) {
    e.message = "\"" + e.message.substr(kRequired.size(), e.message.size() - kRequired.size() - 2) + "\" is required";
  } else if (starts_with(e.message, "Value type not permitted by 'type' constraint")) {
    if (const Value* type = member(schema, "type")) {
      std::string wanted = type->IsString() ? type->GetString() : compact(*type);
      e.message = "must be of type " + wanted;
    }
  } else if (starts_with(e.message, "Failed to match against any enum values")) {
    if (const Value* values = member(schema, "enum")) {
      e.message = "must be one of ";
      for (const auto& v : values->GetArray()) e.message += (&v == values->Begin() ? "" : ", ") + compact(v);
    }
  }
}

// valijson also reports every enclosing schema that failed because a nested
// one did; those lines repeat the nested error, so keep only the leaves.
bool is_wrapper_error(const std::string& description) {
  return description.rfind("Failed to validate against schema associated with property name", 0) == 0 ||
         description.rfind("Failed to validate item #", 0) == 0 ||
         description.rfind("Failed to validate against child schema", 0) == 0 ||
         description.rfind("Failed to validate additional properties", 0) == 0 ||
         description.rfind("Failed to validate against additional items schema", 0) == 0;
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
  std::vector<ErrorDetail> wrappers;
  while (results.popError(error)) {
    Location where = locate(error.context, value, impl_->schema_doc, base);
    ErrorDetail detail{error.description, where.pointer, std::nullopt, {}};
    if (is_wrapper_error(error.description)) {
      wrappers.push_back(std::move(detail));
    } else {
      explain(detail, where.schema);
      errors.push_back(std::move(detail));
    }
  }
  // Never report "invalid" with an empty list: fall back to the wrappers,
  // then to RapidJSON's own finding.
  if (errors.size() == before) errors.insert(errors.end(), wrappers.begin(), wrappers.end());
  if (errors.size() == before)
    errors.push_back({std::string("violates the schema's \"") + impl_->fast->GetInvalidSchemaKeyword() + "\" rule",
                      std::string(base), std::nullopt, {}});
  return false;
}

}  // namespace sfmc
