// The daemon process end to end on the real Kafka broker and the SFMC
// simulator: what a user runs, checked from the outside.
#include <doctest/doctest.h>
#include <signal.h>

#include "core/message_keys.h"
#include "relay_fixture.h"

using namespace sfmc::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kSmsBody =
    R"({"definitionKey":"order-shipped","recipients":[{"contactKey":"Astro25","to":"15555551234","attributes":{"FirstName":"Astro"}}]})";

std::string sms_event(const std::string& id) {
  return R"({"operation":"transactional.sms.send","id":")" + id + R"(","body":)" + kSmsBody + "}";
}

}  // namespace

TEST_CASE("one event travels from Kafka to SFMC and back as exactly one accepted outcome, then its offset is committed") {
  RelayUnderTest relay;
  produce(relay.bootstrap, relay.input, std::string("customer-42"), sms_event("order-4711"));

  auto records = read_topic(relay.bootstrap, relay.outcomes, 1, 60s, 2s);
  REQUIRE(records.size() == 1);
  CHECK(records[0].key == "customer-42");
  auto outcome = parse_json(records[0].value);
  CHECK(std::string(outcome["status"].GetString()) == "accepted");
  CHECK(std::string(outcome["id"].GetString()) == "order-4711");
  CHECK(std::string(outcome["operation"].GetString()) == "transactional.sms.send");
  CHECK(outcome["httpStatus"].GetInt() == 202);
  CHECK(outcome["attempts"].GetInt() == 1);
  CHECK(outcome["errors"].Size() == 0);
  CHECK(std::string(outcome["input"]["topic"].GetString()) == relay.input);
  CHECK(outcome["input"]["offset"].GetInt64() == 0);
  CHECK(std::string(outcome["requestId"].GetString()).size() > 0);

  auto sends = relay.sends();
  REQUIRE(sends.size() == 1);
  CHECK(sends[0].method == "POST");
  CHECK(sends[0].path == "/messaging/v1/sms/messages/");
  CHECK(sends[0].headers["authorization"].rfind("Bearer ", 0) == 0);
  CHECK(sends[0].headers["authorization"].size() > 7);
  // The body is the event's, plus the messageKey derived for the recipient
  // that had none (so a re-delivery cannot send twice).
  const std::string key = sfmc::derived_message_key("order-4711", 0);
  auto expected = parse_json(kSmsBody);
  expected["recipients"][0].AddMember("messageKey", rapidjson::Value(key.c_str(), expected.GetAllocator()),
                                      expected.GetAllocator());
  CHECK(parse_json(sends[0].body) == expected);
  CHECK(relay.token_requests() == 1);
  REQUIRE(outcome["messageKeys"].Size() == 1);
  CHECK(std::string(outcome["messageKeys"][0].GetString()) == key);

  CHECK(relay.wait_for_commit(0, 1) == 1);
  relay.daemon().signal(SIGTERM);
  CHECK(relay.daemon().wait(30s) == 0);
}

TEST_CASE("a value that is not JSON gets one invalid outcome, and the next event is still relayed") {
  RelayUnderTest relay;
  produce(relay.bootstrap, relay.input, std::string("k1"), "this is not JSON {");
  produce(relay.bootstrap, relay.input, std::string("k2"), sms_event("after-the-bad-one"));

  auto records = read_topic(relay.bootstrap, relay.outcomes, 2, 60s, 2s);
  REQUIRE(records.size() == 2);
  auto invalid = parse_json(records[0].value);
  CHECK(records[0].key == "k1");
  CHECK(std::string(invalid["status"].GetString()) == "invalid");
  CHECK(std::string(invalid["id"].GetString()) == relay.input + "/0/0");
  CHECK(invalid["httpStatus"].GetInt() == 0);
  CHECK(invalid["attempts"].GetInt() == 0);
  REQUIRE(invalid["errors"].Size() == 1);
  CHECK(std::string(invalid["errors"][0]["message"].GetString()) ==
        "event value is not valid JSON: Invalid value. (at byte 1)");

  auto accepted = parse_json(records[1].value);
  CHECK(std::string(accepted["status"].GetString()) == "accepted");
  CHECK(std::string(accepted["id"].GetString()) == "after-the-bad-one");
  CHECK(relay.sends().size() == 1);

  CHECK(relay.wait_for_commit(0, 2) == 2);
  relay.daemon().signal(SIGTERM);
  CHECK(relay.daemon().wait(30s) == 0);
}
