// `sfmc-relay redrive` on the real broker: dead letters of a real run back to
// their input topic and accepted without a second send; a redrive killed
// with -9 and run again publishes each record once; a dry run changes
// nothing; bad input gets one clear line.
#include <doctest/doctest.h>
#include <signal.h>

#include <map>
#include <set>
#include <thread>

#include "relay_fixture.h"

using namespace sfmc::test;
using namespace std::chrono_literals;

namespace {

const char* relay_bin() {
  const char* bin = std::getenv("SFMC_RELAY_BIN");
  REQUIRE(bin != nullptr);
  return bin;
}

struct Run {
  std::optional<int> exit;
  std::string output;  // stdout and stderr
};

// sfmc-relay redrive ARGS..., to its end.
Run redrive(const RelayUnderTest& relay, std::vector<std::string> args, std::chrono::seconds deadline = 120s) {
  auto out = relay.dir() / (unique_name("redrive") + ".out");
  args.insert(args.begin(), {"redrive", "--config", relay.config_path().string()});
  ChildProcess child(relay_bin(), args, {"SFMC_TEST_SECRET=sim-secret"}, out.string(), /*stdout_too=*/true);
  Run run;
  run.exit = child.wait(deadline);
  run.output = read_file(out);
  return run;
}

std::string header(const Record& record, const std::string& name) {
  for (const auto& [n, v] : record.headers)
    if (n == name) return v;
  return {};
}

// Recipients that each call's answer accepted, by messageKey, across every
// send the simulator processed (a partial fault's cut answer included).
std::map<std::string, int> accepted_keys(const RelayUnderTest& relay) {
  std::map<std::string, int> accepted;
  for (const auto& request : relay.sends()) {
    if (request.response.empty()) continue;
    auto doc = parse_json(request.response);
    if (!doc.IsObject() || !doc.HasMember("responses")) continue;
    for (const auto& r : doc["responses"].GetArray()) {
      bool refused = r.HasMember("errorcode") && r["errorcode"].IsInt() && r["errorcode"].GetInt() != 0;
      if (!refused) ++accepted[r["messageKey"].GetString()];
    }
  }
  return accepted;
}

std::string sms(const std::string& id, const std::string& to, const std::string& key) {
  std::string recipient = R"({"to":")" + to + "\"" + (key.empty() ? "" : R"(,"messageKey":")" + key + "\"") + "}";
  return R"({"operation":"transactional.sms.send",)" + (id.empty() ? std::string() : R"("id":")" + id + "\",") +
         R"("body":{"definitionKey":"order-shipped","recipients":[)" + recipient + "]}}";
}

// A dead letter as the relay writes one (failed, 50200), for input offset i.
OutgoingRecord letter(const std::string& input_topic, int i) {
  OutgoingRecord r;
  r.key = "k" + std::to_string(i);
  r.value = sms("", "1555555" + std::to_string(1000 + i % 9000), "");
  r.headers = {{"traceparent", "00-trace-" + std::to_string(i)},
               {"sfmc-relay-status", "failed"},
               {"sfmc-relay-error", "Your requests are temporarily blocked."},
               {"sfmc-relay-error-code", "50200"},
               {"sfmc-relay-http-status", "429"},
               {"sfmc-relay-event-id", input_topic + "/0/" + std::to_string(i)},
               {"sfmc-relay-input", input_topic + "/0/" + std::to_string(i)}};
  return r;
}

template <typename Predicate>
bool eventually(Predicate done, std::chrono::seconds deadline = 60s) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

constexpr const char* kShortRetries = R"("retry": {"max_attempts": 2, "base_backoff_ms": 20, "max_backoff_ms": 50})";

}  // namespace

TEST_CASE("redrive: a real run's dead letters go back, reach accepted, and what had gone through is not sent twice") {
  RelayOptions options;
  options.dead_letters = true;
  options.extra_config = kShortRetries;
  // First SFMC takes each send but the answer is cut off (the relay cannot
  // know it went through), then it refuses them (503).
  options.sim_faults = R"({"outage": "partial"})";
  RelayUnderTest relay(options);

  // Without an id (its id, so its derived keys, come from its position),
  // with an id, and with the producer's own messageKey.
  std::vector<std::string> events;
  for (int i = 0; i < 12; ++i) {
    std::string to = "155555512" + std::to_string(10 + i);
    switch (i % 3) {
      case 0: events.push_back(sms("", to, "")); break;
      case 1: events.push_back(sms("ev-" + std::to_string(i), to, "")); break;
      case 2: events.push_back(sms("ev-" + std::to_string(i), to, "producer-key-" + std::to_string(i))); break;
    }
  }
  for (int i = 0; i < 6; ++i) produce(relay.bootstrap, relay.input, "key-" + std::to_string(i), events[i]);
  REQUIRE(eventually([&] { return end_offsets(relay.bootstrap, relay.dead_letters, 1)[0] == 6; }));
  REQUIRE(relay.sim.set_faults_json(R"({"outage": "503"})").empty());
  for (int i = 6; i < 12; ++i) produce(relay.bootstrap, relay.input, "key-" + std::to_string(i), events[i]);
  REQUIRE(eventually([&] { return end_offsets(relay.bootstrap, relay.dead_letters, 1)[0] == 12; }));
  // And one that SFMC refuses (an inactive definition, say): rejected.
  REQUIRE(relay.sim.set_faults_json(R"({"fail_next": {"count": 1, "fault": 400}})").empty());
  events.push_back(sms("ev-rejected", "15555551299", ""));
  produce(relay.bootstrap, relay.input, std::string("key-12"), events[12]);
  REQUIRE(eventually([&] { return end_offsets(relay.bootstrap, relay.dead_letters, 1)[0] == 13; }));
  auto letters = read_to_end(relay.bootstrap, relay.dead_letters, 1, 30s);
  REQUIRE(letters.size() == 13);
  CHECK(header(letters[0], "sfmc-relay-status") == "failed");
  CHECK(header(letters[11], "sfmc-relay-http-status") == "503");
  CHECK(header(letters[12], "sfmc-relay-status") == "rejected");
  CHECK(header(letters[12], "sfmc-relay-http-status") == "400");
  std::map<std::string, std::string> failed_ids;  // by id: its status
  for (const auto& record : read_to_end(relay.bootstrap, relay.outcomes, 1, 30s))
    failed_ids[parse_json(record.value)["id"].GetString()] = parse_json(record.value)["status"].GetString();
  REQUIRE(failed_ids.size() == 13);
  CHECK(failed_ids["ev-rejected"] == "rejected");
  CHECK(accepted_keys(relay).size() == 6);  // the first six went through, unknown to the relay

  relay.sim.clear_faults();
  auto dry = redrive(relay, {"--dry-run", "--error-code", "503"});
  REQUIRE(dry.exit == 0);
  CHECK(dry.output.find("dry run: 6 of 13 dead letters read from " + relay.dead_letters +
                        " would be published to their input topics; nothing was published or committed") !=
        std::string::npos);
  CHECK(dry.output.find("failed  transactional.sms.send") != std::string::npos);
  CHECK(end_offsets(relay.bootstrap, relay.input, 1)[0] == 13);
  CHECK(committed_offset(relay.bootstrap, relay.group + "-redrive", relay.dead_letters, 0) == -1);

  auto run = redrive(relay, {});
  REQUIRE(run.exit == 0);
  INFO(run.output);
  CHECK(run.output.find("published 12 of 13 dead letters read from " + relay.dead_letters + " to their input topics") !=
        std::string::npos);
  CHECK(run.output.find("group " + relay.group +
                        "-redrive; 1 that did not match passed over (a new --group reads them again)") !=
        std::string::npos);
  CHECK(committed_offset(relay.bootstrap, relay.group + "-redrive", relay.dead_letters, 0) == 13);
  // The definition fixed: the rejected one, with a group of its own.
  auto rejected = redrive(relay, {"--status", "rejected", "--error-code", "400", "--group", relay.group + "-fixed"});
  CHECK(rejected.exit == 0);
  CHECK(rejected.output.find("published 1 of 13 dead letters") != std::string::npos);

  // Back on the input topic as they came, with where they came from.
  auto input = read_to_end(relay.bootstrap, relay.input, 1, 30s);
  REQUIRE(input.size() == 26);
  for (int i = 0; i < 13; ++i) {
    const Record& again = input[13 + i];
    CHECK(again.value == events[i]);
    CHECK(again.key == "key-" + std::to_string(i));
    CHECK(header(again, "sfmc-relay-redrive-of") == relay.dead_letters + "/0/" + std::to_string(i));
    CHECK(header(again, "sfmc-relay-redrive-status") == (i == 12 ? "rejected" : "failed"));
    CHECK(header(again, "sfmc-relay-status").empty());
    CHECK(header(again, "sfmc-relay-input").empty());
  }

  // Every event accepted under the id it had, each messageKey accepted by
  // SFMC once: the six that had gone through met 109110.
  std::vector<Record> outcomes;
  REQUIRE(eventually([&] { return (outcomes = read_to_end(relay.bootstrap, relay.outcomes, 1, 30s)).size() >= 26; }));
  CHECK(outcomes.size() == 26);
  std::set<std::string> accepted_ids;
  for (size_t i = 13; i < outcomes.size(); ++i) {
    auto outcome = parse_json(outcomes[i].value);
    CHECK(std::string(outcome["status"].GetString()) == "accepted");
    accepted_ids.insert(outcome["id"].GetString());
  }
  std::set<std::string> expected;
  for (const auto& [id, unused] : failed_ids) expected.insert(id);
  CHECK(accepted_ids == expected);
  auto accepted = accepted_keys(relay);
  CHECK(accepted.size() == 13);
  for (const auto& [key, times] : accepted) CHECK_MESSAGE(times == 1, key);
  size_t duplicates = 0;
  for (const auto& request : relay.sends()) duplicates += request.response.find("109110") != std::string::npos;
  CHECK(duplicates >= 1);

  // Run again: nothing left for the group.
  auto again = redrive(relay, {});
  CHECK(again.exit == 0);
  CHECK(again.output.find("nothing to redrive: " + relay.dead_letters +
                          " holds no record past the positions of group " + relay.group + "-redrive") !=
        std::string::npos);
}

TEST_CASE("redrive: killed with -9 mid-way and run again, it publishes each chosen record exactly once") {
  RelayOptions options;
  options.dead_letters = true;
  RelayUnderTest relay(options);
  const int total = 60000;
  std::vector<OutgoingRecord> records;
  for (int i = 0; i < total; ++i) records.push_back(letter(relay.input, i));
  for (int i = 0; i < total; i += 10) records[i].headers[1].second = "invalid";  // not chosen: --status failed
  produce_all(relay.bootstrap, relay.dead_letters, records);
  const std::string target = unique_name("redriven");
  create_topic(relay.bootstrap, target, 1);
  const std::string group = unique_name("redrive");

  auto out = relay.dir() / "killed.out";
  auto killed_at = -1;
  {
    ChildProcess child(relay_bin(),
                       {"redrive", "--config", relay.config_path().string(), "--to", target, "--group", group},
                       {"SFMC_TEST_SECRET=sim-secret"}, out.string(), true);
    // Killed once a transaction has committed and before the last.
    REQUIRE(eventually([&] {
      killed_at = static_cast<int>(committed_offsets(relay.bootstrap, group, relay.dead_letters, 1)[0]);
      return killed_at > 0 || !child.running();
    }));
    child.signal(SIGKILL);
    CHECK(child.wait(10s) == -1);
  }
  INFO(read_file(out));
  REQUIRE(killed_at > 0);
  REQUIRE(killed_at < total);

  auto run = redrive(relay, {"--to", target, "--group", group});
  REQUIRE(run.exit == 0);
  INFO(run.output);
  CHECK(run.output.find("published ") != std::string::npos);
  auto published = read_to_end(relay.bootstrap, target, 1, 60s);
  std::map<std::string, int> times;
  for (const auto& record : published) ++times[header(record, "sfmc-relay-redrive-of")];
  CHECK(published.size() == static_cast<size_t>(total - total / 10));
  CHECK(times.size() == static_cast<size_t>(total - total / 10));
  for (const auto& [of, n] : times) {
    CHECK_MESSAGE(n == 1, of);
    if (n != 1) break;
  }
  // The identity and the producer's headers travel; the failure headers do not.
  REQUIRE(!published.empty());
  CHECK(header(published[0], "sfmc-relay-event-id") == relay.input + "/0/1");
  CHECK(header(published[0], "traceparent") == "00-trace-1");
  CHECK(header(published[0], "sfmc-relay-error-code").empty());
  CHECK(committed_offsets(relay.bootstrap, group, relay.dead_letters, 1)[0] == total);
}

TEST_CASE("redrive: bad input gets one clear line and changes nothing") {
  RelayOptions options;
  options.dead_letters = true;
  RelayUnderTest relay(options);
  std::vector<OutgoingRecord> records{letter(relay.input, 0), letter(relay.input, 1)};
  records.push_back({"plain", R"({"not":"a dead letter"})", -1, {}});
  produce_all(relay.bootstrap, relay.dead_letters, records);
  const std::string group = unique_name("redrive");
  const std::string target = unique_name("redriven");
  create_topic(relay.bootstrap, target, 1);

  auto none = redrive(relay, {"--group", group, "--to", target, "--error-code", "5020"});
  CHECK(none.exit == 4);
  CHECK(none.output.find("no record matched: none of the 3 dead letters read from " + relay.dead_letters +
                         " matches --error-code 5020 (--status failed by default); nothing was published and group " +
                         group + " keeps its positions; 1 records without sfmc-relay's headers skipped") !=
        std::string::npos);
  CHECK(none.output.find(relay.dead_letters +
                         "/0/2 is not a dead letter of sfmc-relay (no sfmc-relay-status header)") != std::string::npos);
  CHECK(committed_offset(relay.bootstrap, group, relay.dead_letters, 0) == -1);

  auto unknown = redrive(relay, {"--group", group, "--to", "no-such-topic-" + unique_name("x")});
  CHECK(unknown.exit == 1);
  CHECK(unknown.output.find("sfmc-relay redrive: topic 'no-such-topic-") != std::string::npos);
  CHECK(unknown.output.find("' does not exist") != std::string::npos);

  auto usage = redrive(relay, {"--status", "sent"});
  CHECK(usage.exit == 2);
  CHECK(usage.output.find("sfmc-relay redrive: --status is failed, rejected or invalid, not 'sent'") !=
        std::string::npos);

  auto since = redrive(relay, {"--group", group, "--to", target, "--since", "1h", "--limit", "1"});
  CHECK(since.exit == 0);
  CHECK(since.output.find("published 1 of 1 dead letters") != std::string::npos);
  CHECK(end_offsets(relay.bootstrap, target, 1)[0] >= 1);
  CHECK(committed_offset(relay.bootstrap, group, relay.dead_letters, 0) == 1);
}
