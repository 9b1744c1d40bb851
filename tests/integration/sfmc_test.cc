// The SFMC side over real HTTP: every operation, partial failures, token
// expiry, and secrets kept out of logs and outcomes.
#include <doctest/doctest.h>
#include <signal.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>

#include "core/message_keys.h"
#include "relay_fixture.h"

using namespace sfmc::test;
using namespace std::chrono_literals;

namespace {

const std::map<std::string, std::string> kExamplePaths{
    {"example-sms-batch-1", "/messaging/v1/sms/messages/"},
    {"example-sms-one-1", "/messaging/v1/sms/messages/f4fe74b7-c3c0-4e5a-9f49-b63a641109a2"},
    {"example-email-batch-1", "/messaging/v1/email/messages/"},
    {"example-message-contact-1", "/sms/v1/messageContact/MzA6Nzg6MA/send"},
    {"example-message-contact-2", "/sms/v1/messageContact/MzA6Nzg6MA/send"},
    {"example-message-list-1", "/sms/v1/messageList/MTA6Nzg6MA/send"},
};

}  // namespace

TEST_CASE("each of the five operations goes to its route with the event's body, and the outcome carries SFMC's ids") {
  RelayUnderTest relay;
  std::map<std::string, std::string> bodies;  // id -> body as produced
  for (const auto& entry : std::filesystem::directory_iterator(SFMC_EXAMPLES_DIR)) {
    if (!entry.is_regular_file()) continue;  // broken/ holds the examples that must be refused
    std::string text = read_file(entry.path());
    auto event = parse_json(text);
    std::string id = event["id"].GetString();
    sfmc::add_derived_message_keys(event["body"], event.GetAllocator(), id);  // what the relay sends
    rapidjson::StringBuffer body;
    rapidjson::Writer<rapidjson::StringBuffer> writer(body);
    event["body"].Accept(writer);
    bodies[id] = body.GetString();
    produce(relay.bootstrap, relay.input, id, text);
  }
  REQUIRE(bodies.size() == kExamplePaths.size());

  auto records = read_topic(relay.bootstrap, relay.outcomes, bodies.size(), 60s, 2s);
  REQUIRE(records.size() == bodies.size());
  for (const auto& record : records) {
    auto outcome = parse_json(record.value);
    std::string id = outcome["id"].GetString();
    CAPTURE(id);
    CHECK(std::string(outcome["status"].GetString()) == "accepted");
    std::string operation = outcome["operation"].GetString();
    if (operation.rfind("mobileconnect.", 0) == 0) {
      CHECK(std::string(outcome["tokenId"].GetString()).size() == 25);
      CHECK_FALSE(outcome.HasMember("messageKeys"));
    } else {
      auto event = parse_json(bodies.at(id));
      size_t recipients = event.HasMember("recipients") ? event["recipients"].Size() : 1;
      CHECK(outcome["messageKeys"].Size() == recipients);
    }
  }
  auto sends = relay.sends();
  REQUIRE(sends.size() == bodies.size());
  for (const auto& [id, path] : kExamplePaths) {
    CAPTURE(id);
    bool found = false;
    for (const auto& s : sends) found = found || (s.path == path && parse_json(s.body) == parse_json(bodies.at(id)));
    CHECK(found);
  }
  // The messageKeys the events chose are the ones reported.
  for (const auto& record : records) {
    auto outcome = parse_json(record.value);
    if (std::string(outcome["id"].GetString()) == "example-sms-batch-1")
      CHECK(std::string(outcome["messageKeys"][0].GetString()) == "order-4711-sms-1");
  }
}

TEST_CASE("a 202 with a refused recipient is partially_accepted, naming the refused messageKey and SFMC's code") {
  RelayUnderTest relay;
  auto event = [](const std::string& id, const std::string& keys) {
    return R"({"operation":"transactional.sms.send","id":")" + id +
           R"(","body":{"definitionKey":"d","recipients":[)" + keys + "]}}";
  };
  produce(relay.bootstrap, relay.input, std::string("k"), event("first", R"({"to":"15555550001","messageKey":"used-once"})"));
  produce(relay.bootstrap, relay.input, std::string("k"),
          event("second", R"({"to":"15555550002","messageKey":"used-once"},{"to":"15555550003","messageKey":"fresh"})"));
  auto records = read_topic(relay.bootstrap, relay.outcomes, 2, 60s, 2s);
  REQUIRE(records.size() == 2);
  auto second = parse_json(records[1].value);
  CHECK(std::string(second["id"].GetString()) == "second");
  CHECK(std::string(second["status"].GetString()) == "partially_accepted");
  CHECK(second["httpStatus"].GetInt() == 202);
  REQUIRE(second["messageKeys"].Size() == 1);
  CHECK(std::string(second["messageKeys"][0].GetString()) == "fresh");
  REQUIRE(second["errors"].Size() == 1);
  CHECK(second["errors"][0]["code"].GetInt() == 109110);
  CHECK(std::string(second["errors"][0]["messageKey"].GetString()) == "used-once");
}

TEST_CASE("tokens expiring mid-run cost exactly one extra token request, and no event is lost") {
  RelayUnderTest relay;
  auto event = [](int n) {
    return R"({"operation":"transactional.sms.send","id":"e)" + std::to_string(n) +
           R"(","body":{"definitionKey":"d","recipients":[{"to":"15555550001"}]}})";
  };
  for (int n = 0; n < 5; ++n) produce(relay.bootstrap, relay.input, std::nullopt, event(n));
  REQUIRE(read_topic(relay.bootstrap, relay.outcomes, 5, 60s).size() == 5);
  CHECK(relay.token_requests() == 1);

  relay.sim.expire_tokens();
  for (int n = 5; n < 10; ++n) produce(relay.bootstrap, relay.input, std::nullopt, event(n));
  auto records = read_topic(relay.bootstrap, relay.outcomes, 10, 60s, 2s);
  REQUIRE(records.size() == 10);
  for (const auto& r : records) CHECK(std::string(parse_json(r.value)["status"].GetString()) == "accepted");
  CHECK(relay.token_requests() == 2);
}

TEST_CASE("the client secret appears in no log line and no outcome; phone numbers and e-mails are masked in the log") {
  RelayUnderTest relay;
  produce(relay.bootstrap, relay.input, std::nullopt,
          R"({"operation":"transactional.sms.send","body":{"definitionKey":"d","recipients":[{"to":"15555550001"}]}})");
  produce(relay.bootstrap, relay.input, std::nullopt,
          R"({"operation":"mobileconnect.messageContact.send","id":"astro@example.test","messageId":"MzA6Nzg6MA","body":{"mobileNumbers":["1-317-555-1212"]}})");
  auto records = read_topic(relay.bootstrap, relay.outcomes, 2, 60s, 1s);
  REQUIRE(records.size() == 2);
  relay.daemon().signal(SIGTERM);
  REQUIRE(relay.daemon().wait(30s) == 0);
  std::string log = relay.log();
  CHECK(log.find("\"msg\":\"started\"") != std::string::npos);  // the log was captured at debug level
  CHECK(log.find("sim-secret") == std::string::npos);
  for (const auto& r : records) CHECK(r.value.find("sim-secret") == std::string::npos);
  // The invalid event was logged, with its number and its id masked.
  CHECK(log.find("is not a numeric string") != std::string::npos);
  CHECK(log.find("*-***-***-**12 is not a numeric string") != std::string::npos);
  CHECK(log.find("555-1212") == std::string::npos);
  CHECK(log.find("a***@example.test") != std::string::npos);
  CHECK(log.find("astro@example.test") == std::string::npos);
}

TEST_CASE("a 429 storm pauses the account for Retry-After and loses nothing") {
  // One call per event, so the 20 refusals spread over 20 events (merged
  // calls: coalesce_test.cc).
  RelayOptions options;
  options.extra_config = R"("pipeline": {"coalesce": {"enabled": false}})";
  RelayUnderTest relay(options);
  const int events = 30, refused = 20;
  relay.sim.set_faults_json(R"({"fail_next":{"count":20,"fault":"429"},"retry_after_s":1})");
  for (int n = 0; n < events; ++n)
    produce(relay.bootstrap, relay.input, std::string("k").append(std::to_string(n)),
            R"({"operation":"transactional.sms.send","id":"storm-)" + std::to_string(n) +
                R"(","body":{"definitionKey":"d","recipients":[{"to":"15555550001"}]}})");
  auto records = read_topic(relay.bootstrap, relay.outcomes, events, 90s, 1s);
  REQUIRE(records.size() == events);
  int attempts = 0;
  for (const auto& r : records) {
    auto outcome = parse_json(r.value);
    CHECK(std::string(outcome["status"].GetString()) == "accepted");
    attempts += outcome["attempts"].GetInt();
  }
  CHECK(attempts == events + refused);

  // After a 429, nothing more is sent until Retry-After has passed, except
  // what was already on the wire when the 429 arrived.
  auto sends = relay.sends();
  REQUIRE(sends.size() == static_cast<size_t>(events + refused));
  for (const auto& throttled : sends) {
    if (throttled.status != 429) continue;
    for (const auto& s : sends) {
      auto after = s.time - throttled.time;
      bool inside = after > 150ms && after < 900ms;
      CHECK_MESSAGE(!inside, "a send went out " << std::chrono::duration_cast<std::chrono::milliseconds>(after).count()
                                                 << " ms after a 429 with Retry-After: 1");
    }
  }
}
