// The daemon process end to end on the real Kafka broker and the SFMC
// simulator: what a user runs, checked from the outside.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "kafka_harness.h"
#include "process.h"
#include "sim_server.h"

using namespace sfmc::test;
using namespace std::chrono_literals;

namespace {

std::string relay_binary() {
  const char* bin = std::getenv("SFMC_RELAY_BIN");
  if (!bin) throw std::runtime_error("SFMC_RELAY_BIN is not set: run through ctest");
  return bin;
}

// One daemon with its own topics, group and simulator.
struct RelayUnderTest {
  std::string bootstrap = broker_bootstrap();
  std::string input = unique_name("sends");
  std::string outcomes = unique_name("outcomes");
  std::string group = unique_name("relay");
  sfmc::sim::SimServer sim;
  std::filesystem::path config = std::filesystem::temp_directory_path() / (unique_name("relay-config") + ".json");
  std::unique_ptr<ChildProcess> daemon;

  RelayUnderTest() {
    create_topic(bootstrap, input, 1);
    create_topic(bootstrap, outcomes, 1);
    sim.start();
    std::ofstream(config) << R"({
      "kafka": {"bootstrap_servers": ")" << bootstrap << R"(", "group_id": ")" << group << R"(",
                "input_topics": [")" << input << R"("], "outcome_topic": ")" << outcomes << R"(",
                "consumer_properties": {"auto.commit.interval.ms": "200"}},
      "accounts": {"default": {"auth_base_url": ")" << sim.base_url() << R"(", "client_id": "sim-client",
                               "client_secret_env": "SFMC_TEST_SECRET"}},
      "log": {"level": "debug"}
    })";
    daemon = std::make_unique<ChildProcess>(relay_binary(), std::vector<std::string>{"run", "--config", config.string()},
                                            std::vector<std::string>{"SFMC_TEST_SECRET=sim-secret"});
  }
  ~RelayUnderTest() { std::filesystem::remove(config); }

  std::vector<sfmc::sim::RecordedRequest> sends() const {
    std::vector<sfmc::sim::RecordedRequest> out;
    for (auto& r : sim.requests())
      if (r.path != "/v2/token") out.push_back(r);
    return out;
  }

  // Polls the group's committed offset until it reaches `expected`.
  int64_t wait_for_commit(int64_t expected) const {
    int64_t committed = -1;
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      committed = committed_offset(bootstrap, group, input, 0);
      if (committed >= expected) break;
      std::this_thread::sleep_for(100ms);
    }
    return committed;
  }
};

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

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
  auto outcome = parse(records[0].value);
  CHECK(std::string(outcome["status"].GetString()) == "accepted");
  CHECK(std::string(outcome["id"].GetString()) == "order-4711");
  CHECK(std::string(outcome["operation"].GetString()) == "transactional.sms.send");
  CHECK(outcome["httpStatus"].GetInt() == 202);
  CHECK(outcome["attempts"].GetInt() == 1);
  CHECK(outcome["errors"].Size() == 0);
  CHECK(std::string(outcome["input"]["topic"].GetString()) == relay.input);
  CHECK(outcome["input"]["offset"].GetInt64() == 0);

  auto sends = relay.sends();
  REQUIRE(sends.size() == 1);
  CHECK(sends[0].method == "POST");
  CHECK(sends[0].path == "/messaging/v1/sms/messages/");
  CHECK(sends[0].headers["authorization"].rfind("Bearer ", 0) == 0);
  CHECK(sends[0].headers["authorization"].size() > 7);
  CHECK(parse(sends[0].body) == parse(kSmsBody));

  // The messageKey SFMC generated is the one the outcome reports.
  auto response = relay.sim.requests();
  REQUIRE(outcome["messageKeys"].Size() == 1);
  std::string key = outcome["messageKeys"][0].GetString();
  CHECK(key.size() == 22);
  CHECK(std::string(outcome["requestId"].GetString()).size() > 0);

  CHECK(relay.wait_for_commit(1) == 1);
  relay.daemon->signal(SIGTERM);
  CHECK(relay.daemon->wait(30s) == 0);
}

TEST_CASE("a value that is not JSON gets one invalid outcome, and the next event is still relayed") {
  RelayUnderTest relay;
  produce(relay.bootstrap, relay.input, std::string("k1"), "this is not JSON {");
  produce(relay.bootstrap, relay.input, std::string("k2"), sms_event("after-the-bad-one"));

  auto records = read_topic(relay.bootstrap, relay.outcomes, 2, 60s, 2s);
  REQUIRE(records.size() == 2);
  auto invalid = parse(records[0].value);
  CHECK(records[0].key == "k1");
  CHECK(std::string(invalid["status"].GetString()) == "invalid");
  CHECK(std::string(invalid["id"].GetString()) == relay.input + "/0/0");
  CHECK(invalid["httpStatus"].GetInt() == 0);
  CHECK(invalid["attempts"].GetInt() == 0);
  REQUIRE(invalid["errors"].Size() == 1);
  CHECK(std::string(invalid["errors"][0]["message"].GetString()) ==
        "event value is not valid JSON: Invalid value. (at byte 1)");

  auto accepted = parse(records[1].value);
  CHECK(std::string(accepted["status"].GetString()) == "accepted");
  CHECK(std::string(accepted["id"].GetString()) == "after-the-bad-one");
  CHECK(relay.sends().size() == 1);

  CHECK(relay.wait_for_commit(2) == 2);
  relay.daemon->signal(SIGTERM);
  CHECK(relay.daemon->wait(30s) == 0);
}
