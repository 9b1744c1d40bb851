#include <doctest/doctest.h>

#include <rapidjson/document.h>

#include <fstream>
#include <sstream>

#include "contract/schema_validator.h"
#include "core/delivery.h"
#include "core/outcome_json.h"

using namespace sfmc;

namespace {

std::string read_schema(const std::string& name) {
  std::ifstream in(std::string(SFMC_SCHEMAS_DIR) + "/" + name);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Validates `json` against schemas/<schema>; returns the violations' messages.
std::vector<std::string> violations(const std::string& schema, const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  SchemaValidator validator(read_schema(schema));
  std::vector<ErrorDetail> errors;
  bool valid = validator.validate(doc, "", errors);
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.pointer + ": " + e.message);
  CHECK(valid == out.empty());
  return out;
}

StatusCheck transactional_check() {
  StatusCheck c;
  c.id = "e-1";
  c.operation = "transactional.sms.send";
  c.account = "default";
  c.message_key = "mk-1";
  c.accepted_ms = 1796058245123;  // 2026-11-30T17:04:05.123Z
  c.due_ms = 1796058545000;       // five minutes later
  c.step = 0;
  return c;
}

StatusCheck mobile_check() {
  StatusCheck c;
  c.id = "e-2";
  c.operation = "mobileconnect.messageContact.send";
  c.account = "eu";
  c.token_id = "c21NCNSDN2sMMWM2miosdjEHH";
  c.message_id = "MzA6Nzg6MA";
  c.accepted_ms = 1796104800007;  // 2026-12-01T06:00:00.007Z
  c.due_ms = 1796104800007;
  c.step = 3;
  return c;
}

void check_same(const StatusCheck& a, const StatusCheck& b) {
  CHECK(a.id == b.id);
  CHECK(a.operation == b.operation);
  CHECK(a.account == b.account);
  CHECK(a.message_key == b.message_key);
  CHECK(a.token_id == b.token_id);
  CHECK(a.message_id == b.message_id);
  CHECK(a.accepted_ms == b.accepted_ms);
  CHECK(a.due_ms == b.due_ms);
  CHECK(a.step == b.step);
}

std::string parse_error(std::string_view text) {
  std::string error;
  CHECK_FALSE(parse_status_check(text, error).has_value());
  return error;
}

}  // namespace

TEST_CASE("delivery states have their documented names and only the last ones are terminal") {
  CHECK(to_string(DeliveryState::Queued) == "queued");
  CHECK(to_string(DeliveryState::Sent) == "sent");
  CHECK(to_string(DeliveryState::Delivered) == "delivered");
  CHECK(to_string(DeliveryState::Undeliverable) == "undeliverable");
  CHECK(to_string(DeliveryState::NotSent) == "not_sent");
  CHECK(to_string(DeliveryState::Expired) == "expired");
  CHECK(to_string(DeliveryState::Unknown) == "unknown");
  CHECK(is_terminal(DeliveryState::Delivered));
  CHECK(is_terminal(DeliveryState::Undeliverable));
  CHECK(is_terminal(DeliveryState::NotSent));
  CHECK(is_terminal(DeliveryState::Expired));
  CHECK_FALSE(is_terminal(DeliveryState::Queued));
  CHECK_FALSE(is_terminal(DeliveryState::Sent));  // MobileConnect goes on past sent
  CHECK_FALSE(is_terminal(DeliveryState::Unknown));
}

TEST_CASE("a Transactional status check is written with RFC 3339 times and read back unchanged") {
  const auto check = transactional_check();
  const auto json = to_json(check);
  CHECK(json ==
        R"({"version":1,"id":"e-1","operation":"transactional.sms.send","account":"default","messageKey":"mk-1","acceptedAt":"2026-11-30T17:04:05.123Z","due":"2026-11-30T17:09:05.000Z","step":0})");
  std::string error = "stale";
  auto back = parse_status_check(json, error);
  REQUIRE(back.has_value());
  CHECK(error.empty());
  check_same(*back, check);
  CHECK(violations("status-check.schema.json", json).empty());
}

TEST_CASE("a MobileConnect status check is written with tokenId and messageId and read back unchanged") {
  const auto check = mobile_check();
  const auto json = to_json(check);
  CHECK(json ==
        R"({"version":1,"id":"e-2","operation":"mobileconnect.messageContact.send","account":"eu","tokenId":"c21NCNSDN2sMMWM2miosdjEHH","messageId":"MzA6Nzg6MA","acceptedAt":"2026-12-01T06:00:00.007Z","due":"2026-12-01T06:00:00.007Z","step":3})");
  std::string error;
  auto back = parse_status_check(json, error);
  REQUIRE(back.has_value());
  check_same(*back, check);
  CHECK(violations("status-check.schema.json", json).empty());
}

TEST_CASE("status check times are read with or without a fraction, truncated to milliseconds") {
  std::string error;
  auto c = parse_status_check(
      R"({"version":1,"id":"e","operation":"o","account":"a","messageKey":"k","acceptedAt":"2026-11-30T17:04:05Z","due":"2026-11-30T17:04:05.1239Z","step":2})",
      error);
  REQUIRE(c.has_value());
  CHECK(c->accepted_ms == 1796058245000);
  CHECK(c->due_ms == 1796058245123);
  CHECK(c->step == 2);
  // Before 1970 too: the calendar math floors.
  c = parse_status_check(
      R"({"version":1,"id":"e","operation":"o","account":"a","messageKey":"k","acceptedAt":"1969-12-31T23:59:59.999Z","due":"1970-01-01T00:00:00Z","step":0})",
      error);
  REQUIRE(c.has_value());
  CHECK(c->accepted_ms == -1);
  CHECK(to_json(*c).find(R"("acceptedAt":"1969-12-31T23:59:59.999Z","due":"1970-01-01T00:00:00.000Z")") !=
        std::string::npos);
}

TEST_CASE("each malformed status check is refused with a sentence naming the member") {
  const std::string head = R"({"version":1,"id":"e","operation":"o","account":"a",)";
  const std::string times = R"("acceptedAt":"2026-11-30T17:04:05Z","due":"2026-11-30T17:04:05Z")";
  const std::string key = R"("messageKey":"k",)";
  CHECK(parse_error("") == "status check: not JSON: The document is empty. (at byte 0)");
  CHECK(parse_error("{\"version\":1,}") == "status check: not JSON: Missing a name for object member. (at byte 13)");
  CHECK(parse_error("[1]") == "status check: not a JSON object");
  CHECK(parse_error(R"({"version":2})") == "status check: 'version' must be 1");
  CHECK(parse_error(R"({"id":"e"})") == "status check: 'version' is missing");
  CHECK(parse_error(R"({"version":1,"id":"e","colour":1})") == "status check: unknown member 'colour'");
  CHECK(parse_error(R"({"version":1,"operation":"o"})") == "status check: 'id' is missing");
  CHECK(parse_error(R"({"version":1,"id":7})") == "status check: 'id' must be a non-empty string");
  CHECK(parse_error(R"({"version":1,"id":"e","operation":""})") ==
        "status check: 'operation' must be a non-empty string");
  CHECK(parse_error(R"({"version":1,"id":"e","operation":"o"})") == "status check: 'account' is missing");
  CHECK(parse_error(head + times + R"(,"step":0})") ==
        "status check: needs 'messageKey' or 'tokenId' with 'messageId'");
  CHECK(parse_error(head + R"("tokenId":"t",)" + times + R"(,"step":0})") ==
        "status check: needs 'messageKey' or 'tokenId' with 'messageId'");
  CHECK(parse_error(head + R"("messageKey":"k","tokenId":"t","messageId":"m",)" + times + R"(,"step":0})") ==
        "status check: 'messageKey' excludes 'tokenId' and 'messageId'");
  CHECK(parse_error(head + key + R"("due":"2026-11-30T17:04:05Z","step":0})") ==
        "status check: 'acceptedAt' is missing");
  CHECK(parse_error(head + key + R"("acceptedAt":"2026-11-30T17:04:05Z","step":0})") ==
        "status check: 'due' is missing");
  const std::string bad_due = "status check: 'due' must be an RFC 3339 UTC time like 2026-11-30T17:04:05.123Z";
  for (const char* due : {R"("2026-11-30T17:04:05")", R"("2026-11-30T17:04:05+01:00")", R"("2026-02-30T17:04:05Z")",
                          R"("2026-11-30T24:00:00Z")", R"("2026-11-30 17:04:05Z")", R"("2026-11-30T17:04:05.Z")",
                          "1796058245123"}) {
    CAPTURE(due);
    CHECK(parse_error(head + key + R"("acceptedAt":"2026-11-30T17:04:05Z","due":)" + due + R"(,"step":0})") == bad_due);
  }
  CHECK(parse_error(head + key + times + "}") == "status check: 'step' is missing");
  for (const char* step : {"-1", "1.5", "\"2\"", "4294967296"}) {
    CAPTURE(step);
    CHECK(parse_error(head + key + times + R"(,"step":)" + step + "}") ==
          "status check: 'step' must be a non-negative integer");
  }
}

TEST_CASE("an accepted outcome asks for one first check per accepted messageKey, or one for its tokenId") {
  Outcome o;
  o.id = "e-1";
  o.operation = "transactional.sms.send";
  o.account = "acme";
  o.status = OutcomeStatus::PartiallyAccepted;
  o.http_status = 202;
  o.message_keys = {"k1", "k2"};  // the accepted ones; the refused one is in errors
  o.errors.push_back({"refused", "", 10001, "k3"});
  std::string error;
  auto checks = first_checks(to_json(o), "", 1000, 31000, error);
  REQUIRE(checks.has_value());
  CHECK(error.empty());
  REQUIRE(checks->size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    const StatusCheck& c = (*checks)[i];
    CHECK(c.message_key == o.message_keys[i]);
    CHECK(c.id == "e-1");
    CHECK(c.operation == "transactional.sms.send");
    CHECK(c.account == "acme");
    CHECK(c.token_id.empty());
    CHECK(c.accepted_ms == 1000);
    CHECK(c.due_ms == 31000);
    CHECK(c.step == 0);
  }

  Outcome mc = o;
  mc.operation = "mobileconnect.messageContact.send";
  mc.status = OutcomeStatus::Accepted;
  mc.message_keys.clear();
  mc.errors.clear();
  mc.token_id = "tok";
  checks = first_checks(to_json(mc), "MzA6Nzg6MA", 1000, 31000, error);
  REQUIRE(checks.has_value());
  REQUIRE(checks->size() == 1);
  CHECK(checks->front().token_id == "tok");
  CHECK(checks->front().message_id == "MzA6Nzg6MA");
  CHECK(checks->front().message_key.empty());
  // Written as a check of the follow-up topic, it reads back.
  CHECK(parse_status_check(to_json(checks->front()), error).has_value());

  for (auto status : {OutcomeStatus::Invalid, OutcomeStatus::Rejected, OutcomeStatus::Failed}) {
    Outcome other = o;
    other.status = status;
    checks = first_checks(to_json(other), "", 1000, 31000, error);
    REQUIRE(checks.has_value());
    CHECK(checks->empty());
  }
}

TEST_CASE("an outcome that cannot start its checks is refused with a sentence") {
  std::string error;
  CHECK_FALSE(first_checks("{", "", 0, 0, error).has_value());
  CHECK(error.starts_with("outcome: not JSON: "));
  CHECK_FALSE(first_checks("[]", "", 0, 0, error).has_value());
  CHECK(error == "outcome: not a JSON object");
  CHECK_FALSE(first_checks(R"({"status":"accepted","id":"e","operation":"o"})", "", 0, 0, error).has_value());
  CHECK(error == "outcome: 'id', 'operation' and 'account' must be non-empty strings");
  CHECK_FALSE(first_checks(R"({"status":"accepted","id":"e","operation":"o","account":"a"})", "", 0, 0, error));
  CHECK(error == "outcome: accepted, without 'messageKeys' or 'tokenId'");
  CHECK_FALSE(first_checks(R"({"status":"accepted","id":"e","operation":"o","account":"a","messageKeys":[""]})", "",
                           0, 0, error));
  CHECK(error == "outcome: 'messageKeys' must hold non-empty strings");
  CHECK_FALSE(first_checks(R"({"status":"accepted","id":"e","operation":"o","account":"a","tokenId":"t"})", "", 0, 0,
                           error));
  CHECK(error == "outcome: a tokenId without the sfmc-relay-message-id header");
}

TEST_CASE("a Transactional delivery record has exactly the documented members") {
  DeliveryRecord r;
  r.id = "e-1";
  r.operation = "transactional.sms.send";
  r.account = "default";
  r.message_key = "mk-1";
  r.state = DeliveryState::Sent;
  r.final = true;
  r.step = 1;
  r.event_category_type = "TransactionalSendEvents.SMSSent";
  r.sfmc_time = "2026-11-30T17:04:05.123Z";
  r.checked_ms = 1796058545000;
  const auto json = to_json(r);
  CHECK(json ==
        R"({"version":1,"source":"status","id":"e-1","operation":"transactional.sms.send","account":"default","messageKey":"mk-1","state":"sent","final":true,"step":1,"checkedAt":"2026-11-30T17:09:05.000Z","sfmcTime":"2026-11-30T17:04:05.123Z","sfmc":{"eventCategoryType":"TransactionalSendEvents.SMSSent"}})");
  CHECK(violations("delivery.schema.json", json).empty());
}

TEST_CASE("a MobileConnect delivery record carries the number, SFMC's codes and the note") {
  DeliveryRecord r;
  r.id = "e-2";
  r.operation = "mobileconnect.messageContact.send";
  r.account = "eu";
  r.token_id = "tok";
  r.mobile_number = "13175551212";
  r.state = DeliveryState::Undeliverable;
  r.final = true;
  r.step = 4;
  r.status_code = "500";
  r.status_message = "Carrier \"failure\"";
  r.standard_status_code = "4500";
  r.description = "Undeliverable";
  r.send_status = "Finished";
  r.sfmc_time = "2026-12-01T06:00:00.007Z";
  r.checked_ms = 1796104800007;
  r.note = "carrier gave up";
  const auto json = to_json(r);
  CHECK(json ==
        R"({"version":1,"source":"status","id":"e-2","operation":"mobileconnect.messageContact.send","account":"eu","tokenId":"tok","mobileNumber":"13175551212","state":"undeliverable","final":true,"step":4,"checkedAt":"2026-12-01T06:00:00.007Z","sfmcTime":"2026-12-01T06:00:00.007Z","note":"carrier gave up","sfmc":{"statusCode":"500","statusMessage":"Carrier \"failure\"","standardStatusCode":"4500","description":"Undeliverable","status":"Finished"}})");
  CHECK(violations("delivery.schema.json", json).empty());
}

TEST_CASE("a MobileConnect record before any number is tracked omits the number and validates") {
  DeliveryRecord r;
  r.id = "e-3";
  r.operation = "mobileconnect.messageList.send";
  r.account = "default";
  r.token_id = "tok";
  r.state = DeliveryState::Queued;
  r.send_status = "Queuing";
  const auto json = to_json(r);
  CHECK(json ==
        R"({"version":1,"source":"status","id":"e-3","operation":"mobileconnect.messageList.send","account":"default","tokenId":"tok","state":"queued","final":false,"step":0,"checkedAt":"1970-01-01T00:00:00.000Z","sfmc":{"status":"Queuing"}})");
  CHECK(violations("delivery.schema.json", json).empty());
}

TEST_CASE("an ENS delivery record validates without the follow-up's members, and not with them") {
  DeliveryRecord r;
  r.source = DeliverySource::Ens;
  r.message_key = "mk-1";
  r.channel = "sms";
  r.state = DeliveryState::Delivered;
  r.final = true;
  r.event_category_type = "TransactionalSendEvents.SmsDelivered";
  r.mid = "1234";
  r.sfmc_time = "2026-11-30T17:04:05.123Z";
  r.checked_ms = 1796058545000;
  const auto json = to_json(r);
  CHECK(json ==
        R"({"version":1,"source":"ens","messageKey":"mk-1","channel":"sms","state":"delivered","final":true,"receivedAt":"2026-11-30T17:09:05.000Z","sfmcTime":"2026-11-30T17:04:05.123Z","sfmc":{"eventCategoryType":"TransactionalSendEvents.SmsDelivered","mid":"1234"}})");
  CHECK(violations("delivery.schema.json", json).empty());
  // An ENS record with a step, one without its channel; a status record with a channel.
  CHECK_FALSE(violations("delivery.schema.json",
                         R"({"version":1,"source":"ens","messageKey":"k","channel":"sms","state":"sent","final":false,"step":0,"receivedAt":"2026-11-30T17:09:05.000Z","sfmc":{}})")
                  .empty());
  CHECK_FALSE(violations("delivery.schema.json",
                         R"({"version":1,"source":"ens","messageKey":"k","state":"sent","final":false,"receivedAt":"2026-11-30T17:09:05.000Z","sfmc":{}})")
                  .empty());
  CHECK_FALSE(violations("delivery.schema.json",
                         R"({"version":1,"source":"status","id":"e","operation":"o","account":"a","messageKey":"k","channel":"sms","state":"sent","final":false,"step":0,"checkedAt":"2026-11-30T17:09:05.000Z","sfmc":{}})")
                  .empty());
  // A record written before `source` existed is a status record.
  CHECK(violations("delivery.schema.json",
                   R"({"version":1,"id":"e","operation":"o","account":"a","messageKey":"k","state":"sent","final":false,"step":0,"checkedAt":"2026-11-30T17:09:05.000Z","sfmc":{}})")
            .empty());
}

TEST_CASE("the schemas refuse what the formats do not allow") {
  // messageKey and tokenId together.
  CHECK_FALSE(
      violations(
          "delivery.schema.json",
          R"({"version":1,"id":"e","operation":"o","account":"a","messageKey":"k","tokenId":"t","state":"sent","final":false,"step":0,"checkedAt":"2026-11-30T17:09:05.000Z","sfmc":{}})")
          .empty());
  // An unknown state, a time without milliseconds, an unknown SFMC member.
  CHECK(violations(
            "delivery.schema.json",
            R"({"version":1,"id":"e","operation":"o","account":"a","messageKey":"k","state":"gone","final":false,"step":0,"checkedAt":"2026-11-30T17:09:05Z","sfmc":{"x":"1"}})")
            .size() == 3);
  // tokenId without messageId.
  CHECK_FALSE(
      violations(
          "status-check.schema.json",
          R"({"version":1,"id":"e","operation":"o","account":"a","tokenId":"t","acceptedAt":"2026-11-30T17:04:05Z","due":"2026-11-30T17:04:05Z","step":0})")
          .empty());
  // A time without its zone, a negative step.
  CHECK(violations(
            "status-check.schema.json",
            R"({"version":1,"id":"e","operation":"o","account":"a","messageKey":"k","acceptedAt":"2026-11-30T17:04:05","due":"2026-11-30T17:04:05Z","step":-1})")
            .size() == 2);
}
