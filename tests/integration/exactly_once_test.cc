// pipeline.exactly_once on the real broker: outcomes and input offsets in one
// Kafka transaction, so a read_committed reader of the outcome topic finds
// exactly one outcome per event across a kill -9, a broker restart and a
// rebalance each way; the same run without it keeps its at-least-once
// promises; and an instance fenced by another with its transactional.id
// stops with exit code 3, losing nothing; an aborted transaction's records
// are never read and go out again in a later one. Every wait polls with a
// deadline.
#include <doctest/doctest.h>
#include <signal.h>

#include <rapidjson/document.h>

#include <algorithm>
#include <map>
#include <numeric>

#include "delivery_harness.h"
#include "relay_fixture.h"

using namespace sfmc::test;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

constexpr int kEvents = 20000;
constexpr int kKeys = 200;
constexpr int kPartitions = 6;
constexpr size_t kWindow = 500;
constexpr auto kFinishDeadline = 240s;
constexpr auto kAcceptDeadline = 180s;
constexpr const char* kLatency = R"({"latency_ms": {"min": 1, "max": 10}, "seed": 7})";
constexpr const char* kSlow = R"({"latency_ms": 1000})";

// Small merged calls with random latency: events of a partition finish out
// of order, so a transaction could take outcomes beyond the offsets it commits.
std::string config(bool exactly_once) {
  return std::string(R"("pipeline": {"max_in_flight": )") + std::to_string(kWindow) +
         R"(, "coalesce": {"max_recipients": 4}, "exactly_once": )" + (exactly_once ? "true" : "false") + "}";
}

// The outcome topic as a read_committed reader sees it.
OutcomeTally committed_outcomes(const RelayUnderTest& relay, const Workload& workload) {
  auto tally = tally_outcomes(workload, read_to_end(relay.bootstrap, relay.outcomes, 1, 120s), relay.input);
  CAPTURE(tally.first_problem);
  CHECK(tally.foreign == 0);
  CHECK(tally.wrong_fields == 0);
  CHECK(tally.not_accepted == 0);  // a re-sent event meets 109110: still accepted
  return tally;
}

// Outcomes a read_committed reader sees among the first `end` records of the
// outcome topic whose input offset is at or above its partition's committed
// offset in `committed`: outcomes of events a restart consumes again.
size_t outcomes_beyond(const RelayUnderTest& relay, int64_t end, const std::vector<int64_t>& committed) {
  size_t beyond = 0;
  for (const auto& record : read_to_end(relay.bootstrap, relay.outcomes, 1, 120s)) {
    if (record.offset >= end) continue;
    rapidjson::Document outcome;
    outcome.Parse(record.value.c_str());
    const auto& input = outcome["input"];
    beyond += input["offset"].GetInt64() >= committed.at(static_cast<size_t>(input["partition"].GetInt()));
  }
  return beyond;
}

// 20,000 events; the first instance killed with SIGKILL at a fifth and
// started again; the broker restarted at two fifths; a third instance joins at
// three fifths and leaves (SIGTERM) at four; then everything is committed.
void run_through_failures(bool exactly_once) {
  OwnBroker broker;
  const Workload workload(kEvents, kKeys, kPartitions);
  RelayOptions o;
  o.partitions = kPartitions;
  o.bootstrap = broker.bootstrap();
  o.extra_config = config(exactly_once);
  RelayUnderTest relay(o);
  REQUIRE(relay.sim.set_faults_json(kLatency).empty());
  auto ends = produce_workload(relay, workload);

  wait_for_accepted(relay, kEvents / 5, kAcceptDeadline);
  relay.daemon(0).signal(SIGKILL);
  REQUIRE(relay.daemon(0).wait(10s) == -1);
  const auto committed_at_kill = committed_offsets(relay.bootstrap, relay.group, relay.input, kPartitions);
  const auto outcome_end_at_kill = end_offsets(relay.bootstrap, relay.outcomes, 1)[0];
  // Restarted as systemd or a StatefulSet does, under its transactional.id:
  // it aborts the transaction the killed one left open.
  relay.start_daemon({"SFMC_RELAY__KAFKA__TRANSACTIONAL_ID=" + relay.group + "-0"});
  // What the killed instance left visible covers exactly its committed offsets.
  const size_t beyond = outcomes_beyond(relay, outcome_end_at_kill, committed_at_kill);
  MESSAGE("outcomes visible at the kill for offsets it had not committed: " << beyond);
  if (exactly_once) CHECK(beyond == 0);

  wait_for_accepted(relay, 2 * kEvents / 5, kAcceptDeadline);
  broker.restart();

  // librdkafka 2.15 can leave a transaction call waiting for ever on the
  // broker the restart replaced (confluentinc/librdkafka#5456): the relay
  // then says so and exits with 1, and its supervisor starts it again
  // (systemd's Restart=on-failure), as here. Any other exit fails.
  size_t main_daemon = 1;
  eventually(kAcceptDeadline, [&] {
    if (exactly_once && !relay.daemon(main_daemon).running()) {
      REQUIRE(relay.daemon(main_daemon).wait(0s) == 1);
      REQUIRE(relay.log(main_daemon).find("a Kafka transaction call has not returned") != std::string::npos);
      MESSAGE("daemon " << main_daemon << " stopped on a stuck transaction call; started again");
      relay.start_daemon({"SFMC_RELAY__KAFKA__TRANSACTIONAL_ID=" + relay.group + "-0"});
      main_daemon = relay.daemon_count() - 1;
    }
    return relay.sim.stats().message_keys >= 3 * kEvents / 5;
  }, 100ms);
  wait_for_accepted(relay, 3 * kEvents / 5, 1s);
  relay.start_daemon();  // another instance joins: a rebalance
  const size_t joiner = relay.daemon_count() - 1;
  const std::string half = std::string("(").append(std::to_string(kPartitions / 2)).append(" held)");
  REQUIRE(eventually(90s, [&] { return relay.log(joiner).find(half) != std::string::npos; }));

  wait_for_accepted(relay, 4 * kEvents / 5, kAcceptDeadline);
  // SFMC slows down while the joiner leaves, so that the rest of the run
  // (4,000 events, at most a window of 500 a second) outlasts its leaving.
  REQUIRE(relay.sim.set_faults_json(kSlow).empty());
  relay.daemon(joiner).signal(SIGTERM);  // and leaves: another
  CHECK(relay.daemon(joiner).wait(90s) == 0);
  CHECK(committed_offsets(relay.bootstrap, relay.group, relay.input, kPartitions) != ends);  // mid-run
  REQUIRE(relay.sim.set_faults_json(kLatency).empty());

  const bool committed = all_committed(relay, ends, kFinishDeadline);
  if (!committed) {
    std::string log = relay.log(main_daemon);
    MESSAGE("daemon " << main_daemon << " log:\n" << log.substr(log.size() > 6000 ? log.size() - 6000 : 0));
  }
  REQUIRE(committed);
  CHECK(relay.daemon(main_daemon).running());
  auto outcomes = committed_outcomes(relay, workload);
  CHECK(outcomes.lost() == 0);
  if (outcomes.lost() > 0) {
    auto all = read_to_end(relay.bootstrap, relay.outcomes, 1, 120s, /*committed_only=*/false);
    auto end = end_offsets(relay.bootstrap, relay.outcomes, 1);
    MESSAGE("read_uncommitted: " << all.size() << " records, last offset " << (all.empty() ? -1 : all.back().offset)
                                 << ", end offset " << end[0]);
    for (size_t i = 0; i < relay.daemon_count(); ++i) MESSAGE("log " << i << ":\n" << relay.log(i).substr(0, 3000));
  }
  MESSAGE(std::string(exactly_once ? "exactly-once" : "at-least-once")
          << ": events with more than one outcome: " << outcomes.duplicated());
  if (exactly_once)
    CHECK(outcomes.duplicated() == 0);
  else
    CHECK(outcomes.duplicated() <= 4 * kWindow);  // at most a window per crash, restart and rebalance

  // SFMC's side is the same in both modes: each messageKey accepted once.
  auto sends = tally_sends(workload, relay.sends());
  CHECK(sends.foreign == 0);
  CHECK(relay.sim.stats().message_keys == static_cast<size_t>(workload.events()));
  CHECK(std::count(sends.sends.begin(), sends.sends.end(), 0) == 0);
  if (exactly_once) {
    auto metrics = scrape_metrics(relay.admin_port(main_daemon));
    CHECK(metrics["sfmc_relay_transactions_total{result=\"committed\"}"] > 0);
  }
}

}  // namespace

TEST_CASE("exactly-once: kill -9, a broker restart and a rebalance each way; a read_committed reader finds "
          "exactly one outcome per event") {
  run_through_failures(/*exactly_once=*/true);
}

TEST_CASE("the same run at least once: nothing lost, at most a window repeated per failure") {
  run_through_failures(/*exactly_once=*/false);
}

TEST_CASE("exactly-once: an instance fenced by another with its transactional.id stops with exit code 3 "
          "and nothing is lost") {
  const Workload workload(kEvents / 2, kKeys, kPartitions);
  RelayOptions o;
  o.partitions = kPartitions;
  o.extra_config = config(true);
  RelayUnderTest relay(o);  // daemon 0, transactional.id GROUP-0
  REQUIRE(relay.sim.set_faults_json(kLatency).empty());
  auto ends = produce_workload(relay, workload);
  wait_for_accepted(relay, workload.events() / 4, kAcceptDeadline);

  relay.start_daemon({"SFMC_RELAY__KAFKA__TRANSACTIONAL_ID=" + relay.group + "-0"});  // the same id
  CHECK(relay.daemon(0).wait(90s) == 3);
  CHECK(relay.log(0).find("fenced: another instance uses this transactional.id") != std::string::npos);

  REQUIRE(all_committed(relay, ends, kFinishDeadline));
  CHECK(relay.daemon(1).running());
  auto outcomes = committed_outcomes(relay, workload);
  CHECK(outcomes.lost() == 0);
  CHECK(outcomes.duplicated() == 0);
}

// The outcome topic's records per input record {partition, offset}.
std::map<std::pair<int, int64_t>, int> outcomes_per_input(const std::vector<Record>& records) {
  std::map<std::pair<int, int64_t>, int> count;
  for (const auto& record : records) {
    rapidjson::Document outcome;
    outcome.Parse(record.value.c_str());
    const auto& input = outcome["input"];
    ++count[{input["partition"].GetInt(), input["offset"].GetInt64()}];
  }
  return count;
}

// A dead-letter topic whose broker refuses every dead letter: the invalid
// events' values are 1,500 bytes that do not compress, over its
// max.message.bytes of 200; outcomes in the same transaction are written.
// Produces the workload and then `invalid` such events over both
// partitions; returns the input's end offsets.
std::vector<int64_t> produce_with_refused_dead_letters(const RelayUnderTest& relay, const Workload& workload,
                                                       int invalid) {
  set_topic_config(relay.bootstrap, relay.dead_letters, "max.message.bytes", "200");
  produce_workload(relay, workload);
  uint32_t noise = 12345;
  for (int i = 0; i < invalid; ++i) {
    std::string value = "not an event ";
    for (int c = 0; c < 1500; ++c) value += static_cast<char>('!' + (noise = noise * 1103515245 + 12345) % 90);
    produce(relay.bootstrap, relay.input, "bad-" + std::to_string(i), value, i % 2);
  }
  auto ends = end_offsets(relay.bootstrap, relay.input, 2);
  REQUIRE(ends[0] + ends[1] == workload.events() + invalid);
  return ends;
}

RelayOptions with_dead_letters() {
  RelayOptions o;
  o.partitions = 2;
  o.dead_letters = true;
  o.extra_config = config(true);
  return o;
}

TEST_CASE("exactly-once: an aborted transaction is never read, and its outcomes and dead letters go out once "
          "in a later one") {
  constexpr int kInvalid = 5;
  const Workload workload(300, 30, 2);
  RelayUnderTest relay(with_dead_letters());
  // Each transaction with a dead letter fails and is aborted, until the
  // topic takes them.
  const auto ends = produce_with_refused_dead_letters(relay, workload, kInvalid);

  auto aborted = [&] { return scrape_metrics(relay.admin_port())["sfmc_relay_transactions_total{result=\"aborted\"}"]; };
  REQUIRE(eventually(90s, [&] { return aborted() >= 1; }));
  set_topic_config(relay.bootstrap, relay.dead_letters, "max.message.bytes", "1048588");
  REQUIRE(all_committed(relay, ends, kFinishDeadline));
  CHECK(relay.daemon(0).running());
  CHECK(aborted() >= 1);
  CHECK(relay.log(0).find("Kafka transaction aborted; its records are produced again") != std::string::npos);

  // read_committed: one outcome per input record, valid or not, and one
  // dead letter per invalid event.
  auto committed = outcomes_per_input(read_to_end(relay.bootstrap, relay.outcomes, 1, 120s));
  CHECK(committed.size() == static_cast<size_t>(workload.events() + kInvalid));
  CHECK(std::all_of(committed.begin(), committed.end(), [](const auto& entry) { return entry.second == 1; }));
  auto letters = read_to_end(relay.bootstrap, relay.dead_letters, 1, 120s);
  CHECK(letters.size() == static_cast<size_t>(kInvalid));
  // read_uncommitted also finds the aborted transactions' outcomes: they
  // were written, and only the abort kept them from being read.
  auto written = read_to_end(relay.bootstrap, relay.outcomes, 1, 120s, /*committed_only=*/false);
  MESSAGE("outcome records written: " << written.size() << ", committed: " << committed.size()
                                      << ", aborted transactions: " << aborted());
  CHECK(written.size() > committed.size());
}

TEST_CASE("exactly-once: transactions that keep aborting for 30 s stop the daemon (exit 1), nothing committed "
          "past them") {
  const Workload workload(100, 10, 2);
  RelayUnderTest relay(with_dead_letters());
  const auto ends = produce_with_refused_dead_letters(relay, workload, 2);
  CHECK(relay.daemon(0).wait(120s) == 1);
  CHECK(relay.log(0).find("Kafka transactions keep failing; stopping") != std::string::npos);
  // Each partition's invalid event is its last: its offset is not committed,
  // so a restart consumes it again; and no reader saw its outcome.
  auto committed = committed_offsets(relay.bootstrap, relay.group, relay.input, 2);
  CHECK(committed[0] < ends[0]);
  CHECK(committed[1] < ends[1]);
  for (const auto& [input, count] : outcomes_per_input(read_to_end(relay.bootstrap, relay.outcomes, 1, 60s))) {
    CAPTURE(input.first);
    CHECK(input.second < committed.at(static_cast<size_t>(input.first)));
  }
}
