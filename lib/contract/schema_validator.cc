#include "contract/schema_validator.h"

#include <valijson/adapters/rapidjson_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <stdexcept>

namespace sfmc {

struct SchemaValidator::Impl {
  rapidjson::Document schema_doc;
  valijson::Schema schema;
  valijson::Validator validator;
};

SchemaValidator::SchemaValidator(std::string_view schema_json) : impl_(std::make_unique<Impl>()) {
  impl_->schema_doc.Parse(schema_json.data(), schema_json.size());
  if (impl_->schema_doc.HasParseError()) throw std::runtime_error("schema is not valid JSON");
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

// valijson's context is {"<root>", "[name]", "[3]", ...}; "[3]" may be an
// array index or a property called "3", so walk the document to tell.
std::string to_pointer(const std::vector<std::string>& context, const rapidjson::Value& root, std::string_view base) {
  std::string pointer(base);
  const rapidjson::Value* at = &root;
  for (size_t i = 1; i < context.size(); ++i) {
    const std::string& part = context[i];
    if (part.size() < 2 || part.front() != '[' || part.back() != ']') break;
    std::string token = part.substr(1, part.size() - 2);
    pointer += '/';
    pointer += pointer_token(token);
    if (at == nullptr) continue;
    if (at->IsArray()) {
      size_t index = std::strtoul(token.c_str(), nullptr, 10);
      at = index < at->Size() ? &(*at)[static_cast<rapidjson::SizeType>(index)] : nullptr;
    } else if (at->IsObject()) {
      auto member = at->FindMember(rapidjson::StringRef(token.data(), token.size()));
      at = member != at->MemberEnd() ? &member->value : nullptr;
    } else {
      at = nullptr;
    }
  }
  return pointer;
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

bool SchemaValidator::validate(const rapidjson::Value& value, std::string_view base,
                               std::vector<ErrorDetail>& errors) {
  valijson::ValidationResults results;
  valijson::adapters::RapidJsonAdapter target(value);
  if (impl_->validator.validate(impl_->schema, target, &results)) return true;
  valijson::ValidationResults::Error error;
  size_t before = errors.size();
  std::vector<ErrorDetail> wrappers;
  while (results.popError(error)) {
    ErrorDetail detail{error.description, to_pointer(error.context, value, base), std::nullopt, {}};
    (is_wrapper_error(error.description) ? wrappers : errors).push_back(std::move(detail));
  }
  // Never report "valid" with an empty list: fall back to the wrappers.
  if (errors.size() == before) errors.insert(errors.end(), wrappers.begin(), wrappers.end());
  return false;
}

}  // namespace sfmc
