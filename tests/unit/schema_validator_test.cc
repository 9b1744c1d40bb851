#include <doctest/doctest.h>

#include <rapidjson/document.h>

#include "contract/schema_validator.h"

using namespace sfmc;

TEST_CASE("array indices and odd property names become correct JSON pointers") {
  SchemaValidator v(R"({"type":"object","properties":{"a/b":{"type":"array","items":{"type":"object","properties":{"3":{"type":"string"}}}}}})");
  rapidjson::Document doc;
  doc.Parse(R"({"a/b":[{"3":"ok"},{"3":1},{"3":2}]})");
  std::vector<ErrorDetail> errors;
  CHECK_FALSE(v.validate(doc, "/body", errors));
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].pointer == "/body/a~1b/1/3");
  CHECK(errors[1].pointer == "/body/a~1b/2/3");
}
