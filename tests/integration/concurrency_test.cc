// Adaptive concurrency (issue 27) on the real broker and the SFMC
// simulator's capacity model: past its capacity the simulator answers 429
// 50200 at once. The relay must find that capacity, follow it when it
// changes, and fail no event on the way.
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "delivery_harness.h"
#include "relay_fixture.h"

using namespace sfmc::test;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

// One call per event (no coalescing), so the calls are the events.
constexpr const char* kOneCallPerEvent = R"("pipeline": {"coalesce": {"enabled": false}})";
constexpr const char* kLimit = R"(sfmc_relay_sfmc_concurrency_limit{account="default",calls="send"})";

double median(std::vector<double> values) {
  REQUIRE_FALSE(values.empty());
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Polls until the simulator has accepted `count` sends, sampling daemon 0's
// concurrency limit every 100 ms into `limits`.
void run_until_accepted(RelayUnderTest& relay, uint64_t count, std::vector<double>& limits) {
  const int admin = relay.admin_port(0);
  uint64_t accepted = 0;
  bool done = eventually(120s, [&] {
    auto samples = scrape_metrics(admin);
    if (auto it = samples.find(kLimit); it != samples.end()) limits.push_back(it->second);
    accepted = send_requests(relay.sim.stats(), 202);
    return accepted >= count;
  }, 100ms);
  INFO("accepted sends: " << accepted << " of " << count << "\n" << relay.log());
  REQUIRE(done);
}

}  // namespace

TEST_CASE("adaptive concurrency: the limit settles near the simulator's capacity, follows it up, and no event fails") {
  RelayOptions options;
  options.partitions = 2;
  options.extra_config = kOneCallPerEvent;
  // SFMC-like latency: the relay's own pauses (sanitizers, a busy CI
  // machine) are small beside it.
  options.sim_faults = R"({"latency_ms": 200, "capacity": 6})";
  RelayUnderTest relay(options);
  Workload workload(/*events=*/900, /*keys=*/300, /*partitions=*/2);
  auto ends = produce_workload(relay, workload);

  // Capacity 6 at 200 ms: 30 calls a second.
  std::vector<double> settling, at6, at16;
  run_until_accepted(relay, 90, settling);
  run_until_accepted(relay, 360, at6);
  auto stats = relay.sim.stats();
  CHECK(stats.capacity.peak_in_progress == 6);
  CHECK(stats.capacity.refused > 0);  // the relay met the capacity...
  const double refused_at6 = static_cast<double>(stats.capacity.refused);
  // ...and kept below it nearly all the time (a cut answers each refusal).
  CHECK(refused_at6 / static_cast<double>(send_requests(stats)) < 0.15);
  CAPTURE(at6.size());
  CHECK(median(at6) >= 4);
  CHECK(median(at6) <= 7);

  // More room: the limit finds it.
  relay.sim.set_faults_json(R"({"latency_ms": 200, "capacity": 16})");
  std::vector<double> rising;
  run_until_accepted(relay, 480, rising);
  run_until_accepted(relay, 900, at16);
MESSAGE("capacity 6: median limit " << median(at6) << ", " << refused_at6 << " refused of "
                                      << send_requests(stats) << "; capacity 16: median " << median(at16) << ", max "
                                      << *std::max_element(at16.begin(), at16.end()) << ", "
                                      << relay.sim.stats().capacity.refused << " refused in all");
  CHECK(*std::max_element(at16.begin(), at16.end()) >= 12);
  CHECK(median(at16) >= 10);
  CHECK(median(at16) <= 17);

  REQUIRE(all_committed(relay, ends, 60s));
  auto tally = tally_outcomes(workload, read_to_end(relay.bootstrap, relay.outcomes, 1, 120s), relay.input);
  CHECK(tally.lost() == 0);
  CHECK(tally.duplicated() == 0);
  INFO(tally.first_problem);
  CHECK(tally.not_accepted == 0);  // every 50200 was sent again, none failed
  CHECK(relay.sim.stats().count("POST /v2/token", 200) == 1);
}

TEST_CASE("a pinned concurrency (http.concurrency) is the most calls in flight, however much room SFMC has") {
  RelayOptions options;
  options.extra_config = std::string(kOneCallPerEvent) + R"(, "http": {"concurrency": 3})";
  options.sim_faults = R"({"latency_ms": 50})";
  RelayUnderTest relay(options);
  Workload workload(/*events=*/90, /*keys=*/90, /*partitions=*/1);
  auto ends = produce_workload(relay, workload);
  REQUIRE(all_committed(relay, ends, 60s));
  CHECK(relay.sim.stats().capacity.peak_in_progress == 3);
  auto samples = scrape_metrics(relay.admin_port(0));
  CHECK(samples[kLimit] == 3);
  auto tally = tally_outcomes(workload, read_to_end(relay.bootstrap, relay.outcomes, 1, 120s), relay.input);
  CHECK(tally.lost() == 0);
  CHECK(tally.not_accepted == 0);
}
