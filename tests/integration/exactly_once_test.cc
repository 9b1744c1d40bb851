// pipeline.exactly_once on the real broker: outcomes and input offsets in one
// Kafka transaction, so a read_committed reader of the outcome topic finds
// exactly one outcome per event across a kill -9, a broker restart and a
// rebalance each way; the same run without it keeps its at-least-once
// promises; and an instance fenced by another with its transactional.id
// stops with exit code 3, losing nothing. Every wait polls with a deadline.
#include <doctest/doctest.h>
#include <signal.h>

#include <rapidjson/document.h>

#include <algorithm>
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

  wait_for_accepted(relay, 3 * kEvents / 5, kAcceptDeadline);
  relay.start_daemon();  // daemon 2 joins: a rebalance
  const std::string half = std::string("(").append(std::to_string(kPartitions / 2)).append(" held)");
  REQUIRE(eventually(90s, [&] { return relay.log(2).find(half) != std::string::npos; }));

  wait_for_accepted(relay, 4 * kEvents / 5, kAcceptDeadline);
  relay.daemon(2).signal(SIGTERM);  // and leaves: another
  CHECK(relay.daemon(2).wait(90s) == 0);
  CHECK(committed_offsets(relay.bootstrap, relay.group, relay.input, kPartitions) != ends);  // mid-run

  const bool committed = all_committed(relay, ends, kFinishDeadline);
  if (!committed) {
    std::string log = relay.log(1);
    MESSAGE("daemon 1 log:\n" << log.substr(log.size() > 6000 ? log.size() - 6000 : 0));
  }
  REQUIRE(committed);
  CHECK(relay.daemon(1).running());
  auto outcomes = committed_outcomes(relay, workload);
  CHECK(outcomes.lost() == 0);
  if (outcomes.lost() > 0) {
    auto all = read_to_end(relay.bootstrap, relay.outcomes, 1, 120s, /*committed_only=*/false);
    auto end = end_offsets(relay.bootstrap, relay.outcomes, 1);
    MESSAGE("read_uncommitted: " << all.size() << " records, last offset " << (all.empty() ? -1 : all.back().offset)
                                 << ", end offset " << end[0]);
    for (size_t i = 0; i < 3; ++i) MESSAGE("log " << i << ":\n" << relay.log(i).substr(0, 3000));
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
    auto metrics = scrape_metrics(relay.admin_port(1));
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
