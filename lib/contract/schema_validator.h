// JSON Schema validation over the RapidJSON DOM the pipeline already parsed.
// RapidJSON's own validator decides (fast, stops at the first violation);
// only for a value it refuses does valijson walk it again to report every
// violation, each with a JSON pointer and a readable message.
#pragma once

#include <rapidjson/document.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"

namespace sfmc {

class SchemaValidator {
 public:
  // Throws std::runtime_error when the schema text itself is broken: that is a
  // start-up failure, never a per-event one.
  explicit SchemaValidator(std::string_view schema_json);
  ~SchemaValidator();
  SchemaValidator(const SchemaValidator&) = delete;
  SchemaValidator& operator=(const SchemaValidator&) = delete;

  // Appends one ErrorDetail per violation; pointers are prefixed with `base`.
  // Returns true when the value is valid.
  bool validate(const rapidjson::Value& value, std::string_view base, std::vector<ErrorDetail>& errors);

  // Each validator's verdict alone: the tests check that they agree.
  bool accepted_by_rapidjson(const rapidjson::Value& value);
  bool accepted_by_valijson(const rapidjson::Value& value);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Escapes a property name for use as a JSON pointer token (RFC 6901).
std::string pointer_token(std::string_view name);

}  // namespace sfmc
