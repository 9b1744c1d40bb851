// Delivery status follow-up on the real broker and the simulator: every
// accepted recipient's delivery records end with `final: true` and the
// simulator's state, through a kill -9 between checks; and the lookups keep
// to their rate limit, measured at the simulator. Every wait polls with a
// deadline.
#include <doctest/doctest.h>
#include <signal.h>

#include <rapidjson/document.h>

#include <algorithm>
#include <map>
#include <set>

#include "delivery_harness.h"
#include "relay_fixture.h"

using namespace sfmc::test;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

struct StatusTopics {
  std::string delivery = unique_name("delivery");
  std::string followup = unique_name("status-checks");

  StatusTopics() {
    create_topic(broker_bootstrap(), delivery, 1);
    create_topic(broker_bootstrap(), followup, 2);
  }
  std::string config(const std::string& schedule_ms, double rate) const {
    return R"("status": {"topic": ")" + delivery + R"(", "followup_topic": ")" + followup +
           R"(", "schedule_ms": )" + schedule_ms + R"(, "max_requests_per_second": )" + std::to_string(rate) + "}";
  }
};

// The delivery records, by messageKey or tokenId (the test's MobileConnect
// sends have one number each).
std::map<std::string, std::vector<rapidjson::Document>> deliveries(const RelayUnderTest& relay,
                                                                    const StatusTopics& topics) {
  std::map<std::string, std::vector<rapidjson::Document>> by_key;
  for (const auto& record : read_to_end(relay.bootstrap, topics.delivery, 1, 60s)) {
    rapidjson::Document d;
    d.Parse(record.value.c_str());
    if (d.HasParseError() || !d.IsObject()) continue;
    std::string key = d.HasMember("messageKey") ? d["messageKey"].GetString() : d["tokenId"].GetString();
    by_key[key].push_back(std::move(d));
  }
  return by_key;
}

size_t finals(const std::map<std::string, std::vector<rapidjson::Document>>& by_key) {
  return static_cast<size_t>(std::count_if(by_key.begin(), by_key.end(), [](const auto& entry) {
    return std::any_of(entry.second.begin(), entry.second.end(), [](const auto& d) { return d["final"].GetBool(); });
  }));
}

std::string message_contact_event(int i) {
  return R"({"operation":"mobileconnect.messageContact.send","id":"mc-)" + std::to_string(i) +
         R"(","messageId":"MzA6Nzg6MA","body":{"mobileNumbers":["1317555)" + std::to_string(1000 + i) +
         R"("],"Subscribe":true,"Resubscribe":true,"keyword":"JOINSMS","Override":true,"messageText":"Hi"}})";
}

// 200 SMS events and 4 MobileConnect sends; the simulator says queued for
// 2.5 s after a send; the relay killed (SIGKILL) once half the recipients
// have a first record, and started again.
void follow_through_a_kill(bool exactly_once) {
  constexpr int kMobileConnect = 4;
  const Workload workload(200, 20, 2);
  const StatusTopics topics;
  RelayOptions o;
  o.partitions = 2;
  o.sim_status_delay = 2500ms;  // queued at the first looks, sent/delivered later
  o.extra_config = topics.config("[300, 1500, 3000, 6000, 12000]", 100) +
                   R"(, "pipeline": {"exactly_once": )" + (exactly_once ? "true" : "false") + "}";
  RelayUnderTest relay(o);
  // Accepted outcomes the relay did not mark for this follow-up (written
  // before it was on, or for another one) ask for no check.
  auto foreign = [](const std::string& key) {
    return R"({"version":1,"id":"x","operation":"transactional.sms.send","account":"acme","status":"accepted",)"
           R"("httpStatus":202,"messageKeys":[")" + key + R"("],"errors":[],"attempts":1})";
  };
  produce(relay.bootstrap, relay.outcomes, "x", foreign("foreign-unmarked"));
  produce(relay.bootstrap, relay.outcomes, "x", foreign("foreign-other"), -1, {{"sfmc-relay-followup", "another"}});
  produce_workload(relay, workload);
  for (int i = 0; i < kMobileConnect; ++i) produce(relay.bootstrap, relay.input, "mc", message_contact_event(i), 0);
  const size_t expected = static_cast<size_t>(workload.events() + kMobileConnect);

  // Between checks: every recipient looked at once (queued), none final yet.
  REQUIRE(eventually(60s, [&] { return deliveries(relay, topics).size() >= expected / 2; }, 200ms));
  relay.daemon(0).signal(SIGKILL);
  REQUIRE(relay.daemon(0).wait(10s) == -1);
  CHECK(finals(deliveries(relay, topics)) < expected);
  // Under its transactional.id (exactly-once): it aborts what the killed one left open.
  relay.start_daemon({"SFMC_RELAY__KAFKA__TRANSACTIONAL_ID=" + relay.group + "-0"});

  std::map<std::string, std::vector<rapidjson::Document>> by_key;
  bool all_final = eventually(
      90s,
      [&] {
        by_key = deliveries(relay, topics);
        return by_key.size() == expected && finals(by_key) == expected;
      },
      500ms);
  MESSAGE("recipients with records: " << by_key.size() << ", final: " << finals(by_key) << " of " << expected);
  REQUIRE(all_final);
  size_t duplicates = 0;
  size_t first_queued = 0;
  auto rank = [](const rapidjson::Document& d) { return std::string(d["state"].GetString()) == "queued" ? 0 : 1; };
  for (const auto& [key, records] : by_key) {
    CAPTURE(key);
    const auto& last = records.back();
    bool mobile_connect = last.HasMember("tokenId");
    CHECK(std::string(last["state"].GetString()) == (mobile_connect ? "delivered" : "sent"));
    CHECK(last["final"].GetBool());
    CHECK(std::string(last["sfmcTime"].GetString()).ends_with("Z"));
    CHECK(std::string(last["operation"].GetString()) ==
          (mobile_connect ? "mobileconnect.messageContact.send" : "transactional.sms.send"));
    // States only move on (queued, then sent or delivered), repeats after
    // the kill included.
    for (size_t i = 1; i < records.size(); ++i) CHECK(rank(records[i]) >= rank(records[i - 1]));
    first_queued += std::string(records.front()["state"].GetString()) == "queued";
    duplicates += static_cast<size_t>(std::count_if(records.begin(), records.end(), [](const auto& d) { return d["final"].GetBool(); })) - 1;
  }
  MESSAGE("final records repeated after the kill: " << duplicates << "; recipients first seen queued: " << first_queued);
  // Looked up before the simulator's delay had passed: queued, not final.
  CHECK(first_queued > 0);
  for (int i = 0; i < workload.events(); ++i) CHECK(by_key.contains(workload.message_key(i)));
  CHECK_FALSE(by_key.contains("foreign-unmarked"));
  CHECK_FALSE(by_key.contains("foreign-other"));
  // The first checks are the outcomes: the sends wrote nothing to the
  // follow-up topic, whose records are the later steps' checks.
  size_t later_checks = 0;
  for (const auto& record : read_to_end(relay.bootstrap, topics.followup, 2, 30s)) {
    rapidjson::Document check;
    check.Parse(record.value.c_str());
    REQUIRE(check.IsObject());
    CHECK(check["step"].GetInt() > 0);
    ++later_checks;
  }
  // Recipients queued at their first look were looked at again (but one
  // whose next check the kill lost may have been found final at once).
  CHECK(later_checks > 0);
  auto metrics = scrape_metrics(relay.admin_port(1));
  CHECK(metrics["sfmc_relay_status_checks_total{result=\"final\"}"] > 0);
  CHECK(metrics["sfmc_relay_delivery_states_total{operation=\"transactional.sms.send\",state=\"sent\"}"] > 0);
}

}  // namespace

TEST_CASE("status follow-up: every accepted recipient's delivery records end final with the simulator's state, "
          "through a kill -9 between checks") {
  follow_through_a_kill(/*exactly_once=*/false);
}

TEST_CASE("status follow-up in exactly-once mode: the first checks are the committed outcomes; the same end") {
  follow_through_a_kill(/*exactly_once=*/true);
}

TEST_CASE("status follow-up: lookups keep to max_requests_per_second per account, measured at the simulator") {
  constexpr double kRate = 10;
  const Workload workload(60, 60, 1);
  const StatusTopics topics;
  RelayOptions o;
  o.extra_config = topics.config("[100]", kRate);
  RelayUnderTest relay(o);
  produce_workload(relay, workload);
  REQUIRE(eventually(60s, [&] { return finals(deliveries(relay, topics)) == 60; }, 500ms));

  std::vector<sfmc::sim::TimePoint> lookups;
  for (const auto& r : relay.sim.requests())
    if (r.method == "GET" && r.path.starts_with("/messaging/v1/sms/messages/")) lookups.push_back(r.time);
  std::sort(lookups.begin(), lookups.end());
  REQUIRE(lookups.size() >= 60);
  // A bucket of one: no second holds more than the rate and the one in hand.
  size_t most = 0;
  for (size_t i = 0, j = 0; i < lookups.size(); ++i) {
    while (lookups[i] - lookups[j] >= 1s) ++j;
    most = std::max(most, i - j + 1);
  }
  const double seconds = duration<double>(lookups.back() - lookups.front()).count();
  MESSAGE(lookups.size() << " lookups in " << seconds << " s; at most " << most << " in any second");
  CHECK(most <= static_cast<size_t>(kRate) + 1);
  CHECK(seconds >= (static_cast<double>(lookups.size()) - 1) / kRate * 0.95);
  // The lookups used the sends' token: one token request in all.
  CHECK(relay.token_requests() == 1);
}
