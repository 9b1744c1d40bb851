// The delivery engine on the real broker: headers, dead letters, ordering,
// many events in flight.
#include <doctest/doctest.h>
#include <signal.h>

#include <map>

#include "relay_fixture.h"

using namespace sfmc::test;
using namespace std::chrono_literals;

namespace {

std::string header(const Record& r, const std::string& name) {
  for (const auto& [n, v] : r.headers)
    if (n == name) return v;
  return "<absent>";
}

}  // namespace

TEST_CASE("invalid events go to the dead-letter topic as they came, with why; outcomes keep the event's headers") {
  RelayOptions options;
  options.dead_letters = true;
  RelayUnderTest relay(options);
  HeaderList trace{{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}};
  produce(relay.bootstrap, relay.input, std::string("k1"), "{broken", -1, trace);
  produce(relay.bootstrap, relay.input, std::string("k2"),
          R"({"operation":"transactional.sms.send","id":"fine","body":{"definitionKey":"d","recipients":[{"to":"15555550001"}]}})",
          -1, trace);

  auto outcomes = read_topic(relay.bootstrap, relay.outcomes, 2, 60s, 1s);
  REQUIRE(outcomes.size() == 2);
  for (const auto& o : outcomes) CHECK(header(o, "traceparent") == trace[0].second);

  auto letters = read_topic(relay.bootstrap, relay.dead_letters, 1, 30s, 1s);
  REQUIRE(letters.size() == 1);  // the accepted event has none
  CHECK(letters[0].key == "k1");
  CHECK(letters[0].value == "{broken");
  CHECK(header(letters[0], "traceparent") == trace[0].second);
  CHECK(header(letters[0], "sfmc-relay-status") == "invalid");
  CHECK(header(letters[0], "sfmc-relay-error") == "event value is not valid JSON: Missing a name for object member. (at byte 1)");
  CHECK(header(letters[0], "sfmc-relay-input") == relay.input + "/0/0");
  CHECK(relay.wait_for_commit(0, 2) == 2);
}
