// Coalescing (issue 13) on the real broker and the SFMC simulator: waiting
// Transactional sends share one call of their channel's batch route, and
// each event still gets an outcome of its own recipients only.
//
// Merging depends on sends waiting. To make them wait deterministically,
// without sleeps, a test starts the daemon while the simulator refuses every
// token (503, Retry-After 1 s): no send can go out, so every consumed event
// waits in the client. Once /metrics shows all of them held, the faults are
// replaced (by nothing, or by the fault under test) and the next token
// request lets them go, together.
#include <doctest/doctest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <signal.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "core/message_keys.h"
#include "delivery_harness.h"
#include "relay_fixture.h"

using namespace sfmc::test;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

constexpr const char* kNoToken = R"({"outage": "503", "include_token_route": true, "retry_after_s": 1})";
constexpr const char* kSmsBatchRoute = "/messaging/v1/sms/messages/";
constexpr const char* kEmailBatchRoute = "/messaging/v1/email/messages/";
constexpr int64_t kDuplicateMessageKey = 109110;

std::string sms_send(const std::string& id, const std::string& recipients) {
  return R"({"operation":"transactional.sms.send","id":")" + id +
         R"(","body":{"definitionKey":"order-shipped","recipients":[)" + recipients + "]}}";
}

std::string sms_send_one(const std::string& id, const std::string& message_key, const std::string& recipient) {
  return R"({"operation":"transactional.sms.sendOne","id":")" + id + R"(","messageKey":")" + message_key +
         R"(","body":{"definitionKey":"order-shipped","recipient":)" + recipient + "}}";
}

std::string email_send(const std::string& id, const std::string& recipients) {
  return R"({"operation":"transactional.email.send","id":")" + id +
         R"(","body":{"definitionKey":"welcome-email","recipients":[)" + recipients + "]}}";
}

std::string to_text(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return buffer.GetString();
}

double metric(const std::map<std::string, double>& samples, const std::string& series) {
  auto it = samples.find(series);
  return it == samples.end() ? -1 : it->second;
}

// Polls daemon `i`'s /metrics until it holds exactly `events` events
// (consumed, without an outcome yet). With kNoToken in force they all wait
// in the client: the simulator must have seen no send yet.
void wait_until_held(const RelayUnderTest& relay, size_t i, int events) {
  const int admin = relay.admin_port(i);
  double held = -1;
  const bool all = eventually(90s, [&] {
    held = metric(scrape_metrics(admin), "sfmc_relay_in_flight_events");
    return held == events;
  }, 100ms);
  INFO("events held by daemon " << i << ": " << held << ", expected " << events);
  REQUIRE(all);
  REQUIRE(relay.sim.stats().count("POST /v2/token", 503) >= 1);  // the hold is the token outage
}

// The outcomes, one per id (a repeat fails the test), parsed.
std::map<std::string, rapidjson::Document> by_id(const std::vector<Record>& records) {
  std::map<std::string, rapidjson::Document> out;
  for (const auto& r : records) {
    auto outcome = parse_json(r.value);
    std::string id = outcome["id"].GetString();
    CAPTURE(id);
    CHECK(out.count(id) == 0);
    out[id] = std::move(outcome);
  }
  return out;
}

std::string status(const rapidjson::Document& outcome) { return outcome["status"].GetString(); }

std::vector<std::string> message_keys(const rapidjson::Document& outcome) {
  std::vector<std::string> keys;
  if (outcome.HasMember("messageKeys"))
    for (const auto& k : outcome["messageKeys"].GetArray()) keys.emplace_back(k.GetString());
  return keys;
}

// The sends recorded from position `from` on.
std::vector<sfmc::sim::RecordedRequest> sends_since(const RelayUnderTest& relay, size_t from) {
  auto all = relay.sends();
  return {all.begin() + static_cast<std::ptrdiff_t>(std::min(from, all.size())), all.end()};
}

// The events produced one by one (each with its own Kafka key, so ordering
// holds none back), in this order, to partition 0.
void produce_events(const RelayUnderTest& relay, const std::vector<std::pair<std::string, std::string>>& events) {
  std::vector<OutgoingRecord> records;
  for (const auto& [key, value] : events) records.push_back({key, value, 0, {}});
  produce_all(relay.bootstrap, relay.input, records);
}

}  // namespace

TEST_CASE("coalescing: a per-recipient refusal in a merged call reaches only the event that sent that recipient; "
          "the SMS events share one batch request, the email events another") {
  RelayUnderTest relay;
  // Two messageKeys used before: SFMC refuses them (109110) from now on.
  produce(relay.bootstrap, relay.input, std::string("earlier"),
          sms_send("earlier", R"({"to":"15555550100","messageKey":"used-before"},)"
                              R"({"to":"15555550101","messageKey":"used-before-too"})"));
  auto first = read_topic(relay.bootstrap, relay.outcomes, 1, 60s);
  REQUIRE(first.size() == 1);
  REQUIRE(status(parse_json(first[0].value)) == "accepted");
  REQUIRE(relay.wait_for_commit(0, 1) == 1);
  relay.daemon(0).signal(SIGTERM);
  REQUIRE(relay.daemon(0).wait(30s) == 0);
  const size_t before = relay.sends().size();
  REQUIRE(before == 1);

  // A new instance that cannot get a token holds every event it consumes.
  REQUIRE(relay.sim.set_faults_json(kNoToken).empty());
  const std::string a = R"({"to":"15555550001","contactKey":"ca"})";
  const std::string b = R"({"to":"15555550002","messageKey":"used-before"})";
  const std::string c1 = R"({"to":"15555550003","messageKey":"used-before-too"})";
  const std::string c2 = R"({"to":"15555550004","messageKey":"fresh-c"})";
  const std::string d = R"({"to":"15555550005","contactKey":"cd"})";
  const std::string e = R"({"to":"e@example.test","contactKey":"ce"})";
  const std::string f = R"({"to":"f@example.test","contactKey":"cf","messageKey":"fresh-f"})";
  produce_events(relay, {{"ka", sms_send("a", a)},
                         {"kb", sms_send("b", b)},
                         {"kc", sms_send("c", c1 + "," + c2)},
                         {"kd", sms_send_one("d", "one-d", d)},
                         {"ke", email_send("e", e)},
                         {"kf", email_send("f", f)}});
  relay.start_daemon();
  wait_until_held(relay, 1, 6);
  CHECK(relay.sends().size() == before);
  relay.sim.clear_faults();

  auto records = read_topic(relay.bootstrap, relay.outcomes, 7, 60s, 1s);
  REQUIRE(records.size() == 7);
  auto outcomes = by_id(records);
  REQUIRE(outcomes.size() == 7);

  // One request per channel, in the order the events were consumed.
  auto sends = sends_since(relay, before);
  REQUIRE(sends.size() == 2);
  const auto& sms = sends[0].path == kSmsBatchRoute ? sends[0] : sends[1];
  const auto& email = sends[0].path == kSmsBatchRoute ? sends[1] : sends[0];
  CHECK(sms.path == kSmsBatchRoute);
  CHECK(email.path == kEmailBatchRoute);
  CHECK(sms.status == 202);
  CHECK(email.status == 202);
  const std::string key_a = sfmc::derived_message_key("a", 0);
  const std::string key_e = sfmc::derived_message_key("e", 0);
  // The shared fields once, each event's recipients with their keys: the
  // derived ones, the explicit ones and the sendOne's key from its path.
  const std::string a_keyed = R"({"to":"15555550001","contactKey":"ca","messageKey":")" + key_a + "\"}";
  const std::string d_keyed = R"({"messageKey":"one-d","to":"15555550005","contactKey":"cd"})";
  const std::string e_keyed = R"({"to":"e@example.test","contactKey":"ce","messageKey":")" + key_e + "\"}";
  CHECK(parse_json(sms.body) == parse_json(R"({"definitionKey":"order-shipped","recipients":[)" + a_keyed + "," + b +
                                           "," + c1 + "," + c2 + "," + d_keyed + "]}"));
  CHECK(parse_json(email.body) ==
        parse_json(R"({"definitionKey":"welcome-email","recipients":[)" + e_keyed + "," + f + "]}"));

  const std::string sms_request_id = outcomes["a"]["requestId"].GetString();
  CHECK_FALSE(sms_request_id.empty());
  for (const char* id : {"a", "b", "c", "d"}) {
    CAPTURE(id);
    CHECK(outcomes[id]["httpStatus"].GetInt() == 202);
    CHECK(outcomes[id]["attempts"].GetInt() == 1);
    CHECK(std::string(outcomes[id]["requestId"].GetString()) == sms_request_id);
  }
  // Accepted: only their own keys, no error.
  CHECK(status(outcomes["a"]) == "accepted");
  CHECK(message_keys(outcomes["a"]) == std::vector<std::string>{key_a});
  CHECK(outcomes["a"]["errors"].Size() == 0);
  CHECK(status(outcomes["d"]) == "accepted");
  CHECK(message_keys(outcomes["d"]) == std::vector<std::string>{"one-d"});
  CHECK(outcomes["d"]["errors"].Size() == 0);
  // Its only recipient refused: rejected, with that recipient's error alone.
  CHECK(status(outcomes["b"]) == "rejected");
  CHECK(message_keys(outcomes["b"]).empty());
  REQUIRE(outcomes["b"]["errors"].Size() == 1);
  CHECK(outcomes["b"]["errors"][0]["code"].GetInt64() == kDuplicateMessageKey);
  CHECK(std::string(outcomes["b"]["errors"][0]["messageKey"].GetString()) == "used-before");
  // One of two refused: partially accepted.
  CHECK(status(outcomes["c"]) == "partially_accepted");
  CHECK(message_keys(outcomes["c"]) == std::vector<std::string>{"fresh-c"});
  REQUIRE(outcomes["c"]["errors"].Size() == 1);
  CHECK(outcomes["c"]["errors"][0]["code"].GetInt64() == kDuplicateMessageKey);
  CHECK(std::string(outcomes["c"]["errors"][0]["messageKey"].GetString()) == "used-before-too");
  // The email call: both accepted, its own requestId.
  for (const char* id : {"e", "f"}) {
    CAPTURE(id);
    CHECK(status(outcomes[id]) == "accepted");
    CHECK(outcomes[id]["errors"].Size() == 0);
    CHECK(std::string(outcomes[id]["requestId"].GetString()) != sms_request_id);
  }
  CHECK(message_keys(outcomes["e"]) == std::vector<std::string>{key_e});
  CHECK(message_keys(outcomes["f"]) == std::vector<std::string>{"fresh-f"});
  CHECK(std::string(outcomes["e"]["requestId"].GetString()) == outcomes["f"]["requestId"].GetString());

  // The daemon counts what it merged: six events in two calls, of five and
  // two recipients.
  std::map<std::string, double> metrics;
  CHECK(eventually(10s, [&] {
    metrics = scrape_metrics(relay.admin_port(1));
    return metric(metrics, R"(sfmc_relay_outcomes_total{operation="transactional.email.send",status="accepted"})") == 2;
  }));
  CHECK(metric(metrics, "sfmc_relay_coalesced_events_total") == 6);
  CHECK(metric(metrics, R"(sfmc_relay_batch_recipients_count{operation="transactional.sms.send"})") == 1);
  CHECK(metric(metrics, R"(sfmc_relay_batch_recipients_sum{operation="transactional.sms.send"})") == 5);
  CHECK(metric(metrics, R"(sfmc_relay_batch_recipients_count{operation="transactional.email.send"})") == 1);
  CHECK(metric(metrics, R"(sfmc_relay_batch_recipients_sum{operation="transactional.email.send"})") == 2);
}

TEST_CASE("coalescing: a request-level refusal (400) of a merged call reaches every event in it, with the same "
          "error, and is not retried") {
  RelayOptions options;
  options.sim_faults = kNoToken;
  RelayUnderTest relay(options);
  std::vector<std::pair<std::string, std::string>> events;
  for (int n = 0; n < 4; ++n)
    // append, not "lit" + std::to_string(): GCC 12's -Wrestrict false positive in Release.
    events.push_back({std::string("k").append(std::to_string(n)),
                      sms_send(std::string("bad-").append(std::to_string(n)),
                               std::string(R"({"to":"1555555000)").append(std::to_string(n)).append(R"("})"))});
  produce_events(relay, events);
  wait_until_held(relay, 0, 4);
  REQUIRE(relay.sim.set_faults_json(R"({"fail_next": {"count": 1, "fault": "400"}})").empty());

  auto records = read_topic(relay.bootstrap, relay.outcomes, 4, 60s, 1s);
  REQUIRE(records.size() == 4);
  auto outcomes = by_id(records);
  REQUIRE(outcomes.size() == 4);
  const std::string errors = to_text(outcomes["bad-0"]["errors"]);
  CHECK(outcomes["bad-0"]["errors"].Size() == 1);
  CHECK(errors.find("Bad Request") != std::string::npos);
  for (const auto& [id, outcome] : outcomes) {
    CAPTURE(id);
    CHECK(status(outcome) == "rejected");
    CHECK(outcome["httpStatus"].GetInt() == 400);
    CHECK(outcome["attempts"].GetInt() == 1);
    CHECK(message_keys(outcome).empty());
    CHECK(to_text(outcome["errors"]) == errors);
  }
  // One call carried all four, and was not repeated.
  CHECK(relay.wait_for_commit(0, 4) == 4);
  auto sends = relay.sends();
  REQUIRE(sends.size() == 1);
  CHECK(sends[0].path == kSmsBatchRoute);
  CHECK(sends[0].status == 400);
  std::vector<std::string> expected;
  for (int n = 0; n < 4; ++n) expected.push_back(sfmc::derived_message_key("bad-" + std::to_string(n), 0));
  CHECK(recipient_keys(sends[0]) == expected);
  CHECK(relay.sim.stats().message_keys == 0);
}

TEST_CASE("coalescing: a merged call whose answer is lost (partial) is retried whole, and the 109110s the retry "
          "meets on its own keys, derived or explicit, make every event accepted") {
  RelayOptions options;
  options.sim_faults = kNoToken;
  RelayUnderTest relay(options);
  produce_events(relay, {{"k0", sms_send("p0", R"({"to":"15555550000"})")},
                         {"k1", sms_send("p1", R"({"to":"15555550001","messageKey":"explicit-p1"})")},
                         {"k2", sms_send("p2", R"({"to":"15555550002"},)"
                                               R"({"to":"15555550003","messageKey":"explicit-p2"})")},
                         {"k3", sms_send_one("p3", "one-p3", R"({"to":"15555550004"})")}});
  wait_until_held(relay, 0, 4);
  // The simulator processes the request, then closes the connection half way
  // through the answer.
  REQUIRE(relay.sim.set_faults_json(R"({"fail_next": {"count": 1, "fault": "partial"}})").empty());

  auto records = read_topic(relay.bootstrap, relay.outcomes, 4, 60s, 1s);
  REQUIRE(records.size() == 4);
  auto outcomes = by_id(records);
  const std::map<std::string, std::vector<std::string>> own_keys{
      {"p0", {sfmc::derived_message_key("p0", 0)}},
      {"p1", {"explicit-p1"}},
      {"p2", {sfmc::derived_message_key("p2", 0), "explicit-p2"}},
      {"p3", {"one-p3"}}};
  REQUIRE(outcomes.size() == own_keys.size());
  for (const auto& [id, keys] : own_keys) {
    CAPTURE(id);
    const auto& outcome = outcomes[id];
    CHECK(status(outcome) == "accepted");
    CHECK(outcome["httpStatus"].GetInt() == 202);
    CHECK(outcome["attempts"].GetInt() == 2);
    CHECK(outcome["errors"].Size() == 0);
    CHECK(message_keys(outcome) == keys);
  }

  // The same request twice: the lost one, then its retry; nothing else.
  auto sends = relay.sends();
  REQUIRE(sends.size() == 2);
  CHECK(sends[0].status == 0);  // no complete answer
  CHECK(sends[1].status == 202);
  CHECK(sends[0].path == kSmsBatchRoute);
  CHECK(sends[1].path == kSmsBatchRoute);
  CHECK(sends[1].body == sends[0].body);
  CHECK(recipient_keys(sends[0]) ==
        std::vector<std::string>{own_keys.at("p0")[0], "explicit-p1", own_keys.at("p2")[0], "explicit-p2", "one-p3"});
  // Each messageKey accepted once, by the first request.
  auto stats = relay.sim.stats();
  CHECK(stats.message_keys == 5);
  CHECK(stats.fault_count("partial") == 1);
  auto metrics = scrape_metrics(relay.admin_port());
  CHECK(metric(metrics, "sfmc_relay_coalesced_events_total") == 4);  // counted once, not per attempt
  CHECK(metric(metrics, R"(sfmc_relay_retries_total{reason="network"})") == 1);
}

TEST_CASE("coalescing: a merged call refused with 429 waits out Retry-After and is retried whole, then every event "
          "in it is accepted") {
  RelayOptions options;
  options.sim_faults = kNoToken;
  RelayUnderTest relay(options);
  std::vector<std::pair<std::string, std::string>> events;
  std::vector<std::string> keys;
  for (int n = 0; n < 4; ++n) {
    std::string id = "throttled-" + std::to_string(n);
    events.push_back({"k" + std::to_string(n), sms_send(id, R"({"to":"15555550001"})")});
    keys.push_back(sfmc::derived_message_key(id, 0));
  }
  produce_events(relay, events);
  wait_until_held(relay, 0, 4);
  REQUIRE(relay.sim.set_faults_json(R"({"fail_next": {"count": 2, "fault": "429"}, "retry_after_s": 1})").empty());

  auto records = read_topic(relay.bootstrap, relay.outcomes, 4, 60s, 1s);
  REQUIRE(records.size() == 4);
  auto outcomes = by_id(records);
  REQUIRE(outcomes.size() == 4);
  for (int n = 0; n < 4; ++n) {
    const auto& outcome = outcomes["throttled-" + std::to_string(n)];
    CAPTURE(n);
    CHECK(status(outcome) == "accepted");
    CHECK(outcome["attempts"].GetInt() == 3);
    CHECK(message_keys(outcome) == std::vector<std::string>{keys[static_cast<size_t>(n)]});
  }
  auto sends = relay.sends();
  REQUIRE(sends.size() == 3);
  CHECK(sends[0].status == 429);
  CHECK(sends[1].status == 429);
  CHECK(sends[2].status == 202);
  for (const auto& s : sends) {
    CHECK(s.body == sends[0].body);
    CHECK(recipient_keys(s) == keys);
  }
  // Not before Retry-After (1 s) has passed; the simulator stamps a request
  // when it answers, the relay waits from when it read the answer.
  for (size_t i = 1; i < sends.size(); ++i) {
    CAPTURE(i);
    CHECK(sends[i].time - sends[i - 1].time >= 1s);
  }
  auto metrics = scrape_metrics(relay.admin_port());
  CHECK(metric(metrics, R"(sfmc_relay_retries_total{reason="throttled"})") == 2);
  CHECK(metric(metrics, "sfmc_relay_coalesced_events_total") == 4);
}

TEST_CASE("coalescing: two waiting events with the same explicit messageKey are not merged; the second, sent on its "
          "own, is refused as a reused key and the first is accepted") {
  RelayOptions options;
  options.sim_faults = kNoToken;
  // One call at a time, so the two calls reach SFMC in a known order.
  options.extra_config = R"("http": {"max_connections": 1})";
  RelayUnderTest relay(options);
  produce_events(relay, {{"k0", sms_send("first", R"({"to":"15555550000","messageKey":"collide"})")},
                         {"k1", sms_send("second", R"({"to":"15555550001","messageKey":"collide"})")},
                         {"k2", sms_send("third", R"({"to":"15555550002"})")},
                         {"k3", sms_send("fourth", R"({"to":"15555550003"})")}});
  wait_until_held(relay, 0, 4);
  relay.sim.clear_faults();

  auto records = read_topic(relay.bootstrap, relay.outcomes, 4, 60s, 1s);
  REQUIRE(records.size() == 4);
  auto outcomes = by_id(records);
  REQUIRE(outcomes.size() == 4);
  const std::string third = sfmc::derived_message_key("third", 0);
  const std::string fourth = sfmc::derived_message_key("fourth", 0);

  // The first takes along every waiting event but the one its key collides with.
  auto sends = relay.sends();
  REQUIRE(sends.size() == 2);
  CHECK(recipient_keys(sends[0]) == std::vector<std::string>{"collide", third, fourth});
  CHECK(recipient_keys(sends[1]) == std::vector<std::string>{"collide"});
  for (const auto& s : sends) {
    CHECK(s.path == kSmsBatchRoute);
    CHECK(s.status == 202);
  }

  CHECK(status(outcomes["first"]) == "accepted");
  CHECK(message_keys(outcomes["first"]) == std::vector<std::string>{"collide"});
  CHECK(status(outcomes["third"]) == "accepted");
  CHECK(status(outcomes["fourth"]) == "accepted");
  CHECK(std::string(outcomes["third"]["requestId"].GetString()) == outcomes["first"]["requestId"].GetString());
  CHECK(status(outcomes["second"]) == "rejected");
  CHECK(std::string(outcomes["second"]["requestId"].GetString()) != outcomes["first"]["requestId"].GetString());
  REQUIRE(outcomes["second"]["errors"].Size() == 1);
  CHECK(outcomes["second"]["errors"][0]["code"].GetInt64() == kDuplicateMessageKey);
  CHECK(std::string(outcomes["second"]["errors"][0]["messageKey"].GetString()) == "collide");
  CHECK(relay.sim.stats().message_keys == 3);
}

TEST_CASE("coalescing: events of one Kafka key go one at a time and in order, while the other keys' events merge "
          "with them: 10 keys x 3 events in exactly 3 calls, call n carrying every key's event n") {
  constexpr int kKeys = 10, kPerKey = 3;
  const Workload workload(kKeys * kPerKey, kKeys, 2);
  RelayOptions options;
  options.partitions = 2;
  options.sim_faults = kNoToken;
  RelayUnderTest relay(options);
  produce_all(relay.bootstrap, relay.input, workload.records());
  wait_until_held(relay, 0, workload.events());
  relay.sim.clear_faults();

  auto records = read_topic(relay.bootstrap, relay.outcomes, static_cast<size_t>(workload.events()), 60s, 1s);
  auto outcomes = tally_outcomes(workload, records, relay.input);
  CAPTURE(outcomes.first_problem);
  CHECK(outcomes.lost() == 0);
  CHECK(outcomes.duplicated() == 0);
  CHECK(outcomes.not_accepted == 0);
  CHECK(outcomes.wrong_fields == 0);

  auto sends = relay.sends();
  REQUIRE(sends.size() == static_cast<size_t>(kPerKey));
  for (int n = 0; n < kPerKey; ++n) {
    CAPTURE(n);
    std::set<std::string> expected;
    for (int i = 0; i < workload.events(); ++i)
      if (workload.sequence_of(i) == n) expected.insert(workload.message_key(i));
    auto keys = recipient_keys(sends[static_cast<size_t>(n)]);
    CHECK(keys.size() == static_cast<size_t>(kKeys));
    CHECK(std::set<std::string>(keys.begin(), keys.end()) == expected);
  }
  auto tally = tally_sends(workload, sends);
  CHECK(tally.foreign == 0);
  CHECK(std::count(tally.sends.begin(), tally.sends.end(), 1) == workload.events());
  for (int key = 0; key < kKeys; ++key) {
    CAPTURE(key);
    CHECK(tally.sequence_order[static_cast<size_t>(key)] == std::vector<int>{0, 1, 2});
  }
  auto metrics = scrape_metrics(relay.admin_port());
  CHECK(metric(metrics, "sfmc_relay_coalesced_events_total") == workload.events());
}

TEST_CASE("coalescing: max_recipients caps a merged call; the events beyond it go in the next call") {
  RelayOptions options;
  options.sim_faults = kNoToken;
  options.extra_config = R"("pipeline": {"coalesce": {"max_recipients": 4}})";
  RelayUnderTest relay(options);
  std::vector<std::pair<std::string, std::string>> events;
  std::vector<std::string> keys;
  for (int n = 0; n < 10; ++n) {
    std::string id = std::string("capped-").append(std::to_string(n));
    events.push_back({std::string("k").append(std::to_string(n)), sms_send(id, R"({"to":"15555550001"})")});
    keys.push_back(sfmc::derived_message_key(id, 0));
  }
  produce_events(relay, events);
  wait_until_held(relay, 0, 10);
  relay.sim.clear_faults();

  auto records = read_topic(relay.bootstrap, relay.outcomes, 10, 60s, 1s);
  REQUIRE(records.size() == 10);
  for (const auto& r : records) CHECK(status(parse_json(r.value)) == "accepted");
  auto sends = relay.sends();
  REQUIRE(sends.size() == 3);
  // Taken in the order consumed: the first four, the next four, the two
  // left. The three calls go out at once, so they are recorded as answered.
  std::vector<std::vector<std::string>> calls;
  for (const auto& s : sends) calls.push_back(recipient_keys(s));
  std::sort(calls.begin(), calls.end());
  std::vector<std::vector<std::string>> expected{
      {keys.begin(), keys.begin() + 4}, {keys.begin() + 4, keys.begin() + 8}, {keys.begin() + 8, keys.end()}};
  std::sort(expected.begin(), expected.end());
  CHECK(calls == expected);
  auto metrics = scrape_metrics(relay.admin_port());
  CHECK(metric(metrics, R"(sfmc_relay_batch_recipients_count{operation="transactional.sms.send"})") == 3);
  CHECK(metric(metrics, R"(sfmc_relay_batch_recipients_sum{operation="transactional.sms.send"})") == 10);
}

TEST_CASE("coalescing: kill -9 while merged calls SFMC has processed wait for their answers, then a new instance: "
          "every event gets an outcome, no instance sends a recipient twice, every messageKey is accepted exactly "
          "once") {
  constexpr int kEvents = 6000, kKeys = 200, kPartitions = 6;
  constexpr size_t kWindow = 1000;
  const Workload workload(kEvents, kKeys, kPartitions);
  RelayOptions options;
  options.partitions = kPartitions;
  // Few connections and slow answers: sends wait, and merge. The limit is
  // pinned at the four connections: a learnt one may sit lower (a window
  // of slow answers cuts it, and a merged stream that fewer calls carry
  // does not raise it again), and the kill below needs all four in flight.
  options.extra_config = R"("pipeline": {"max_in_flight": )" + std::to_string(kWindow) +
                         R"(}, "http": {"max_connections": 4, "concurrency": 4})";
  const std::string latency = R"({"latency_ms": {"min": 20, "max": 40}, "seed": 7})";
  options.sim_faults = latency;
  RelayUnderTest relay(options);
  produce_all(relay.bootstrap, relay.input, workload.records());
  const auto ends = end_offsets(relay.bootstrap, relay.input, kPartitions);
  REQUIRE(std::accumulate(ends.begin(), ends.end(), int64_t{0}) == kEvents);

  // The middle of the run: a third of the keys accepted. From then on the
  // simulator processes each call and holds its answer half sent, until
  // all four connections hold one (with so few, each may carry a call that
  // is not full): the kill lands on four calls SFMC counted and the relay
  // has no answer for, before its 15 s timeout would send them again.
  REQUIRE(eventually(120s, [&] { return relay.sim.stats().message_keys >= kEvents / 3; }, 20ms));
  REQUIRE(relay.sim.set_faults_json(R"({"outage": "partial", "partial_stalls": true, "stall_ms": 60000})").empty());
  REQUIRE(eventually(30s, [&] { return relay.sim.stats().fault_count("partial") >= 4; }, 20ms));
  relay.daemon(0).signal(SIGKILL);
  REQUIRE(relay.daemon(0).wait(10s) == -1);
  const size_t held_at_kill = relay.sim.stats().fault_count("partial");
  REQUIRE(committed_offsets(relay.bootstrap, relay.group, relay.input, kPartitions) != ends);
  REQUIRE(relay.sim.set_faults_json(latency).empty());
  relay.start_daemon();

  std::vector<int64_t> committed;
  const bool done = eventually(180s, [&] {
    committed = committed_offsets(relay.bootstrap, relay.group, relay.input, kPartitions);
    return committed == ends;
  }, 250ms);
  REQUIRE(done);

  auto outcomes = tally_outcomes(workload, read_to_end(relay.bootstrap, relay.outcomes, 1, 120s), relay.input);
  CAPTURE(outcomes.first_problem);
  CHECK(outcomes.foreign == 0);
  CHECK(outcomes.wrong_fields == 0);  // each outcome names its own messageKey only
  CHECK(outcomes.not_accepted == 0);  // a re-sent event meets 109110 on its derived key: accepted
  CHECK(outcomes.lost() == 0);
  CHECK(outcomes.duplicated() <= kWindow);
  MESSAGE("events with more than one outcome: " << outcomes.duplicated());

  auto sends = relay.sends();
  auto tally = tally_sends(workload, sends);
  CHECK(tally.foreign == 0);
  CHECK(std::count(tally.sends.begin(), tally.sends.end(), 0) == 0);
  CHECK(tally.events_sent_more_than_once() <= kWindow);
  // Each instance (its own token) sent each recipient at most once.
  std::map<std::string, std::map<std::string, int>> per_instance;  // token -> messageKey -> sends
  for (const auto& s : sends)
    for (const auto& key : recipient_keys(s)) ++per_instance[s.headers.at("authorization")][key];
  REQUIRE(per_instance.size() == 2);
  for (const auto& [token, keys] : per_instance) {
    size_t repeated = 0;
    for (const auto& [key, n] : keys) repeated += n > 1;
    CHECK(repeated == 0);
  }
  // The calls held at the kill, merged ones among them: the new
  // instance sent every one of their recipients again (SFMC had them, the
  // relay did not know), and met 109110 on each.
  const std::string killed = sends.front().headers.at("authorization");
  const auto& second_keys = std::find_if(per_instance.begin(), per_instance.end(), [&](const auto& instance) {
                              return instance.first != killed;
                            })->second;
  size_t held = 0, held_recipients = 0, held_sent_again = 0, sent_by_both = 0;
  for (const auto& s : sends) {
    if (s.headers.at("authorization") != killed || s.status != 0) continue;
    ++held;
    for (const auto& key : recipient_keys(s)) {
      ++held_recipients;
      held_sent_again += second_keys.count(key);
    }
  }
  for (const auto& [key, n] : per_instance[killed]) sent_by_both += second_keys.count(key);
  MESSAGE("held at the kill: " << held << " calls, " << held_recipients << " recipients; sent by both instances: "
                               << sent_by_both);
  CHECK(held == held_at_kill);
  CHECK(held == 4);
  CHECK(held_recipients > held);
  CHECK(held_sent_again == held_recipients);
  // The simulator remembers each key it accepted, and refuses a second
  // acceptance: exactly one remembered key per event means each event's
  // key was accepted exactly once.
  auto stats = relay.sim.stats();
  CHECK(stats.message_keys == static_cast<size_t>(kEvents));
  CHECK(stats.message_keys_forgotten_early == 0);

  // It merged: far fewer calls than events, and the new instance counts
  // events it sent together with others.
  MESSAGE("send requests: " << sends.size() << " for " << kEvents << " events");
  CHECK(sends.size() * 4 < static_cast<size_t>(kEvents));
  auto metrics = scrape_metrics(relay.admin_port(1));
  CHECK(metric(metrics, "sfmc_relay_coalesced_events_total") > 0);
}
