// The contract corpus (tests/contract/cases.json): every seed example, every
// locally decidable error-table row and the boundary cases, each with the
// exact sentences expected. tests/contract/check_schemas.py runs Python's
// jsonschema over the same corpus, so three validators are held to one table.
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "contract/embedded_schemas.h"
#include "contract/event_decoder.h"
#include "core/operations.h"

using namespace sfmc;

namespace {

std::string compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

rapidjson::Document load_cases() {
  std::ifstream in(SFMC_CONTRACT_CASES);
  std::stringstream text;
  text << in.rdbuf();
  rapidjson::Document doc;
  doc.Parse(text.str().c_str());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsArray());
  return doc;
}

bool under(const std::string& pointer, const std::string& prefix) {
  return pointer == prefix || pointer.rfind(prefix + "/", 0) == 0;
}

}  // namespace

TEST_CASE("every case of the contract corpus gets exactly its expected errors") {
  auto cases = load_cases();
  EventDecoder decoder;
  std::vector<std::unique_ptr<SchemaValidator>> bodies;
  for (const auto& op : kOperations) bodies.push_back(std::make_unique<SchemaValidator>(schemas::body(op.operation)));
  CHECK(cases.Size() >= 60);

  for (const auto& c : cases.GetArray()) {
    std::string name = c["name"].GetString();
    CAPTURE(name);
    const auto& event = c["event"];
    auto operation = operation_from_name(event["operation"].GetString());
    REQUIRE(operation.has_value());
    bool schema_valid = c["schema_valid"].GetBool();

    // The fast and the thorough validator agree with the table.
    auto& body_schema = *bodies[static_cast<size_t>(*operation)];
    CHECK(body_schema.accepted_by_rapidjson(event["body"]) == schema_valid);
    CHECK(body_schema.accepted_by_valijson(event["body"]) == schema_valid);

    InboundEvent inbound;
    inbound.input = {"cases", 0, 0};
    inbound.value = compact(event);
    Decoded decoded = decoder.decode(inbound);
    std::vector<ErrorDetail> actual;
    if (auto* invalid = std::get_if<InvalidEvent>(&decoded)) actual = invalid->errors;

    // Every expected rule error, exactly once.
    for (const auto& expected : c["errors"].GetArray()) {
      std::string pointer = expected["pointer"].GetString(), message = expected["message"].GetString();
      auto it = std::find_if(actual.begin(), actual.end(),
                             [&](const ErrorDetail& e) { return e.pointer == pointer && e.message == message; });
      CHECK_MESSAGE(it != actual.end(), "missing: " << pointer << " " << message);
      if (it != actual.end()) actual.erase(it);
    }
    // What is left came from the schema.
    if (schema_valid) {
      for (const auto& e : actual) CHECK_MESSAGE(false, "unexpected: " << e.pointer << " " << e.message);
    } else {
      CHECK_FALSE(actual.empty());
      for (const auto& p : c["schema_pointers"].GetArray()) {
        std::string pointer = p.GetString();
        bool found = std::any_of(actual.begin(), actual.end(), [&](const ErrorDetail& e) { return under(e.pointer, pointer); });
        CHECK_MESSAGE(found, "no schema error at " << pointer);
      }
    }
  }
}
