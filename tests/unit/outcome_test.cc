#include <doctest/doctest.h>

#include <rapidjson/document.h>

#include "contract/embedded_schemas.h"
#include "contract/schema_validator.h"
#include "core/outcome_json.h"

using namespace sfmc;

TEST_CASE("outcomes serialise to the documented format and validate against outcome.schema.json") {
  Outcome o;
  o.id = "e-1";
  o.operation = "transactional.sms.send";
  o.account = "default";
  o.status = OutcomeStatus::PartiallyAccepted;
  o.http_status = 202;
  o.request_id = "r-1";
  o.message_keys = {"a"};
  o.errors = {{"refused", "", 109106, "b"}, {"bad \"quote\"", "/body/x", std::nullopt, {}}};
  o.attempts = 1;
  o.input = {"sends", 3, 99};
  std::string json = to_json(o);
  CHECK(json ==
        R"({"version":1,"id":"e-1","operation":"transactional.sms.send","account":"default","status":"partially_accepted","httpStatus":202,"requestId":"r-1","messageKeys":["a"],"errors":[{"message":"refused","code":109106,"messageKey":"b"},{"message":"bad \"quote\"","pointer":"/body/x"}],"attempts":1,"input":{"topic":"sends","partition":3,"offset":99}})");

  rapidjson::Document doc;
  doc.Parse(json.c_str());
  SchemaValidator schema(schemas::kOutcome);
  std::vector<ErrorDetail> errors;
  CHECK(schema.validate(doc, "", errors));
  CHECK(errors.empty());
}

TEST_CASE("an invalid outcome also validates against the schema") {
  Outcome o;
  o.id = "t/0/1";
  o.status = OutcomeStatus::Invalid;
  o.errors = {{"event value is not valid JSON", "", std::nullopt, {}}};
  rapidjson::Document doc;
  doc.Parse(to_json(o).c_str());
  std::vector<ErrorDetail> errors;
  CHECK(SchemaValidator(schemas::kOutcome).validate(doc, "", errors));
}
