// The capacity model: the "capacity" member, the schedule as a pure function
// of elapsed time, the gate's exact count, and over real HTTP the 429 50200
// answered at once to sends past the capacity.
#include "sim_capacity.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sim_fault_config.h"
#include "sim_test_support.h"

namespace {

using namespace sfmc::sim;
using namespace sfmc::sim::test;
using namespace std::chrono_literals;
using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

const char* const kBlockedBody =
    R"({"message":"Your requests are temporarily blocked.","errorcode":50200,"documentation":""})";
const char* const kSmsRoute = "POST /messaging/v1/sms/messages";

std::string sms_body(const std::string& message_key) {
  return R"({"definitionKey":"d","recipients":[{"to":"15555550001","messageKey":")" + message_key + R"("}]})";
}

CapacitySchedule example_schedule() {
  CapacitySchedule schedule;
  schedule.scheduled = true;
  schedule.phases = {{0ms, 24}, {10000ms, 64}, {20000ms, 8}};
  return schedule;
}

void put_faults(Sim& sim, const std::string& json) {
  auto result = sim.client->Put("/_sim/faults", json, "application/json");
  REQUIRE(result);
  REQUIRE(result->status == 200);
}

rapidjson::Document get_json(Sim& sim, const char* path) {
  auto result = sim.client->Get(path);
  REQUIRE(result);
  REQUIRE(result->status == 200);
  return parse(result->body);
}

// One send on its own connection, timed from before the request is written
// to when the response has been read.
struct TimedSend {
  int status = 0;  // 0: no response
  std::string body;
  bool retry_after = false;
  std::chrono::steady_clock::duration took{};
  SteadyTime done{};
};

TimedSend timed_send(int port, const std::string& token, const std::string& body) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30, 0);
  TimedSend send;
  const auto started = std::chrono::steady_clock::now();
  auto result = client.Post(kSmsBatch, {{"Authorization", "Bearer " + token}}, body, "application/json");
  send.done = std::chrono::steady_clock::now();
  send.took = send.done - started;
  if (result) {
    send.status = result->status;
    send.body = result->body;
    send.retry_after = result->has_header("Retry-After");
  }
  return send;
}

}  // namespace

TEST_CASE("capacity JSON: a number is a fixed capacity, 0 and null no limit; each is written back in its form") {
  std::string error;
  const auto fixed = parse_fault_config(R"({"capacity":24})", error);
  REQUIRE(fixed);
  CHECK(fixed->capacity == CapacitySchedule::fixed(24));
  CHECK_FALSE(fixed->capacity.scheduled);
  CHECK_FALSE(fixed->injects_nothing());
  CHECK(fault_config_json(*fixed).ends_with(R"("seed":null,"capacity":24})"));

  for (const char* unlimited : {R"({"capacity":0})", R"({"capacity":null})", "{}"}) {
    CAPTURE(unlimited);
    const auto config = parse_fault_config(unlimited, error);
    REQUIRE(config);
    CHECK(config->capacity.phases.empty());
    CHECK(config->injects_nothing());
    CHECK(fault_config_json(*config).ends_with(R"("capacity":0})"));
  }
}

TEST_CASE("capacity JSON: a schedule is read phase by phase and written back as the same schedule") {
  const std::string schedule =
      R"([{"after_ms":0,"calls":24},{"after_ms":10000,"calls":64},{"after_ms":20000,"calls":8}])";
  std::string error;
  const auto config = parse_fault_config(R"({"capacity":)" + schedule + "}", error);
  REQUIRE(config);
  CHECK(config->capacity == example_schedule());
  const std::string written = fault_config_json(*config);
  CHECK(written.ends_with(R"("capacity":)" + schedule + "}"));
  // Round trip: what GET shows, PUT takes back unchanged.
  const auto again = parse_fault_config(written, error);
  REQUIRE(again);
  CHECK(again->capacity == config->capacity);

  // A one-phase schedule stays a schedule; a phase of 0 calls lifts the limit.
  const auto single = parse_fault_config(R"({"capacity":[{"calls":3,"after_ms":0}]})", error);
  REQUIRE(single);
  CHECK(fault_config_json(*single).ends_with(R"("capacity":[{"after_ms":0,"calls":3}]})"));
  const auto lifted = parse_fault_config(R"({"capacity":[{"after_ms":0,"calls":0}]})", error);
  REQUIRE(lifted);
  CHECK(lifted->capacity.unlimited());
}

TEST_CASE("capacity JSON: bad shapes are refused with a sentence naming the member") {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"capacity":-1})", "capacity must be a non-negative integer"},
      {R"({"capacity":2.5})", "capacity must be a non-negative integer"},
      {R"({"capacity":"24"})", R"(capacity must be a number of calls or a schedule like [{"after_ms":0,"calls":24}])"},
      {R"({"capacity":{"calls":24}})",
       R"(capacity must be a number of calls or a schedule like [{"after_ms":0,"calls":24}])"},
      {R"({"capacity":[]})", R"(capacity must list at least one phase, e.g. [{"after_ms":0,"calls":24}])"},
      {R"({"capacity":[24]})", R"(capacity[0] must be an object like {"after_ms":0,"calls":24})"},
      {R"({"capacity":[{"after_ms":5,"calls":24}]})", "capacity[0].after_ms must be 0"},
      {R"({"capacity":[{"after_ms":0,"calls":24},{"after_ms":100,"calls":8},{"after_ms":100,"calls":4}]})",
       "capacity[2].after_ms must be greater than capacity[1].after_ms"},
      {R"({"capacity":[{"after_ms":0,"calls":24},{"after_ms":-1,"calls":8}]})",
       "capacity[1].after_ms must be a non-negative integer"},
      {R"({"capacity":[{"after_ms":0,"calls":-3}]})", "capacity[0].calls must be a non-negative integer"},
      {R"({"capacity":[{"after_ms":0}]})", "capacity[0] needs both after_ms and calls"},
      {R"({"capacity":[{"after_ms":0,"calls":1,"limit":2}]})", R"(capacity[0]: unknown member "limit")"},
  };
  for (const auto& [text, expected] : cases) {
    CAPTURE(text);
    std::string error;
    CHECK_FALSE(parse_fault_config(text, error));
    CHECK(error == expected);
  }
}

TEST_CASE("capacity schedule: the capacity in force at given times after it was applied") {
  const CapacitySchedule schedule = example_schedule();
  const std::pair<milliseconds, int> expected[] = {
      {0ms, 24},    {1ms, 24},    {9999ms, 24},      {10000ms, 64}, {19999ms, 64},
      {20000ms, 8}, {20001ms, 8}, {86'400'000ms, 8}, {-5ms, 24},
  };
  for (const auto& [elapsed, calls] : expected) {
    CAPTURE(elapsed.count());
    CHECK(capacity_at(schedule, elapsed) == calls);
  }
  CHECK(capacity_at(CapacitySchedule{}, 0ms) == 0);
  CHECK(capacity_at(CapacitySchedule::fixed(5), 123456ms) == 5);
  CHECK(capacity_at(CapacitySchedule::fixed(0), 0ms) == 0);
}

TEST_CASE("capacity gate: admits up to the capacity, refuses past it; an ended call frees its place") {
  const SteadyTime start{};
  CapacityGate gate(CapacitySchedule::fixed(2), start);
  auto first = gate.try_enter(start);
  auto second = gate.try_enter(start);
  REQUIRE(first);
  REQUIRE(second);
  CHECK_FALSE(gate.try_enter(start));
  CHECK_FALSE(gate.try_enter(start + 1h));
  CHECK(gate.stats(start) == CapacityStats{2, 2, 2, 2});
  first.reset();
  auto third = gate.try_enter(start);
  CHECK(third);
  CHECK(gate.stats(start) == CapacityStats{2, 2, 2, 2});

  // Moving a permit moves the call, it does not end it or count it twice.
  auto moved = std::move(*third);
  third.reset();
  CHECK(gate.stats(start).in_progress == 2);

  // Reset: the refusals zeroed, the peak restarted from the calls in progress.
  second.reset();
  gate.reset_stats();
  CHECK(gate.stats(start) == CapacityStats{2, 1, 1, 0});
}

TEST_CASE("capacity gate: follows its schedule from the time it was configured; no limit admits all") {
  const SteadyTime applied = SteadyTime{} + 5s;
  CapacityGate gate;
  gate.configure(example_schedule(), applied);
  CHECK(gate.capacity(applied) == 24);
  CHECK(gate.capacity(applied + 10s) == 64);
  CHECK(gate.capacity(applied + 25s) == 8);

  std::vector<CapacityGate::Permit> permits;
  for (int i = 0; i < 30; ++i) {
    if (auto permit = gate.try_enter(applied + 25s)) permits.push_back(std::move(*permit));
  }
  CHECK(permits.size() == 8);
  CHECK(gate.stats(applied + 25s) == CapacityStats{8, 8, 8, 22});

  // Reconfiguring restarts the clock and keeps the calls in progress.
  gate.configure(example_schedule(), applied + 25s);
  CHECK(gate.capacity(applied + 25s) == 24);
  CHECK(gate.stats(applied + 25s).in_progress == 8);

  gate.configure(CapacitySchedule{}, applied);
  for (int i = 0; i < 100; ++i) {
    auto permit = gate.try_enter(applied);
    REQUIRE(permit);
    permits.push_back(std::move(*permit));
  }
  CHECK(gate.stats(applied) == CapacityStats{0, 108, 108, 22});
  permits.clear();
  CHECK(gate.stats(applied).in_progress == 0);
}

TEST_CASE("capacity gate: a call ended by an exception gives its place back") {
  CapacityGate gate(CapacitySchedule::fixed(1), SteadyTime{});
  const auto failing_call = [&] {
    auto permit = gate.try_enter(SteadyTime{});
    REQUIRE(permit);
    throw std::runtime_error("handler failed");
  };
  CHECK_THROWS_AS(failing_call(), std::runtime_error);
  CHECK(gate.stats(SteadyTime{}).in_progress == 0);
  CHECK(gate.try_enter(SteadyTime{}));
}

TEST_CASE("capacity gate: the count stays exact with many threads entering and leaving at once") {
  constexpr int kCapacity = 3;
  constexpr int kThreads = 8;
  constexpr int kRounds = 20000;
  CapacityGate gate(CapacitySchedule::fixed(kCapacity), SteadyTime{});
  std::atomic<int> inside{0};
  std::atomic<int> most_inside{0};
  std::atomic<std::uint64_t> admitted{0};
  std::atomic<std::uint64_t> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        auto permit = gate.try_enter(SteadyTime{});
        if (!permit) {
          ++refused;
          continue;
        }
        ++admitted;
        const int now_inside = ++inside;
        int most = most_inside.load();
        while (now_inside > most && !most_inside.compare_exchange_weak(most, now_inside)) {
        }
        --inside;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto stats = gate.stats(SteadyTime{});
  CHECK(most_inside.load() <= kCapacity);
  CHECK(admitted + refused == std::uint64_t{kThreads} * kRounds);
  CHECK(stats.in_progress == 0);
  CHECK(stats.refused == refused.load());
  CHECK(stats.peak_in_progress <= kCapacity);
  CHECK(stats.peak_in_progress >= 1);
}

TEST_CASE("capacity: of 5 concurrent sends with capacity 2, 2 are served and 3 get 429 50200 at once") {
  constexpr auto kLatency = 1500ms;
  Sim sim;
  const std::string token = sim.token();
  put_faults(sim, R"({"capacity":2,"latency_ms":1500})");

  std::atomic<bool> go{false};
  std::vector<TimedSend> sends(5);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < sends.size(); ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      sends[i] = timed_send(sim.server.port(), token, sms_body(std::string("k").append(std::to_string(i))));
    });
  }
  go = true;
  for (auto& thread : threads) thread.join();

  std::vector<TimedSend> served, refused;
  for (const auto& send : sends) (send.status == 202 ? served : refused).push_back(send);
  REQUIRE(served.size() == 2);
  REQUIRE(refused.size() == 3);
  const auto first_served = std::min(served[0].done, served[1].done);
  for (const auto& send : served) CHECK(send.took >= kLatency);
  for (const auto& send : refused) {
    CHECK(send.status == 429);
    CHECK(send.body == kBlockedBody);
    CHECK(parse(send.body)["errorcode"].GetInt() == 50200);
    CHECK_FALSE(send.retry_after);
    // Answered at once: long before the latency, while the two served sends
    // were still held by it.
    CHECK(send.took < kLatency / 2);
    CHECK(send.done < first_served);
  }

  const auto stats = sim.server.stats();
  CHECK(stats.capacity == CapacityStats{2, 0, 2, 3});
  CHECK(stats.fault_count("capacity") == 3);
  CHECK(stats.fault_count("latency") == 2);  // a refused send is not delayed
  CHECK(stats.count(kSmsRoute, 202) == 2);
  CHECK(stats.count(kSmsRoute, 429) == 3);
  CHECK(stats.message_keys == 2);  // a refused send's messageKey is not remembered
  CHECK(stats.message_records == 2);

  const auto json = get_json(sim, "/_sim/stats");
  CHECK(json["capacity"]["calls"].GetInt() == 2);
  CHECK(json["capacity"]["in_progress"].GetInt() == 0);
  CHECK(json["capacity"]["peak_in_progress"].GetInt() == 2);
  CHECK(json["capacity"]["refused"].GetInt() == 3);
  CHECK(json["faults"]["capacity"].GetInt() == 3);

  CHECK(sim.client->Delete("/_sim/stats")->status == 200);
  CHECK(sim.server.stats().capacity == CapacityStats{2, 0, 0, 0});
  CHECK(sim.server.stats().fault_count("capacity") == 0);
}

TEST_CASE("capacity: only sends count; a refused send comes before the token, rolls no fault, is not processed") {
  Sim sim;
  const std::string token = sim.token();
  put_faults(sim, R"({"capacity":1,"latency_ms":1000,"fail_next":{"count":2,"fault":"503"}})");
  TimedSend held;
  std::thread holder([&] { held = timed_send(sim.server.port(), token, sms_body("held")); });
  REQUIRE(eventually([&] { return sim.server.stats().capacity.in_progress == 1; }));

  auto refused = sim.post(kSmsBatch, sms_body("b"), token);
  REQUIRE(refused);
  CHECK(refused->status == 429);
  CHECK(refused->body == kBlockedBody);
  auto anonymous = sim.post(kSmsBatch, sms_body("b"));
  REQUIRE(anonymous);
  CHECK(anonymous->status == 429);  // capacity is checked before the token
  // The token route, the status routes and /_sim/ are never counted or refused.
  CHECK(sim.post("/v2/token", kTokenRequest)->status == 200);
  CHECK(sim.get("/messaging/v1/sms/messages/b", token)->status == 404);
  CHECK(sim.client->Get("/_sim/health")->status == 200);
  CHECK(sim.server.stats().capacity.in_progress == 1);
  // The held send took one fail_next; the refused ones took none.
  CHECK(get_json(sim, "/_sim/faults")["fail_next"]["count"].GetInt() == 1);

  holder.join();
  CHECK(held.status == 503);
  const auto stats = sim.server.stats();
  CHECK(stats.capacity == CapacityStats{1, 0, 1, 2});
  CHECK(stats.count(kSmsRoute, 429) == 2);
  CHECK(stats.count(kSmsRoute, 503) == 1);
  CHECK(stats.fault_count("503") == 1);
  const auto recorded = sim.server.requests();
  CHECK(std::count_if(recorded.begin(), recorded.end(), [](const auto& r) { return r.status == 429; }) == 2);

  // Not processed: the messageKey "b" is still free.
  put_faults(sim, R"({"capacity":1})");
  auto sent = sim.post(kSmsBatch, sms_body("b"), token);
  REQUIRE(sent);
  CHECK(sent->status == 202);
  CHECK(parse(sent->body)["errorcode"].GetInt() == 0);
}

TEST_CASE("capacity: a schedule's times count from the PUT, which GET /_sim/faults shows back") {
  Sim sim;
  const std::string schedule = R"([{"after_ms":0,"calls":5},{"after_ms":1000,"calls":1}])";
  const auto put_at = std::chrono::steady_clock::now();
  put_faults(sim, R"({"capacity":)" + schedule + "}");
  CHECK(get_json(sim, "/_sim/stats")["capacity"]["calls"].GetInt() == 5);
  auto faults = sim.client->Get("/_sim/faults");
  REQUIRE(faults);
  CHECK(faults->body.ends_with(R"("capacity":)" + schedule + "}"));

  REQUIRE(eventually([&] { return get_json(sim, "/_sim/stats")["capacity"]["calls"].GetInt() == 1; }));
  CHECK(std::chrono::steady_clock::now() - put_at >= 1000ms);

  // PUT the document GET showed: the same schedule, started again.
  put_faults(sim, faults->body);
  CHECK(get_json(sim, "/_sim/stats")["capacity"]["calls"].GetInt() == 5);
  CHECK(sim.client->Delete("/_sim/faults")->status == 200);
  CHECK(get_json(sim, "/_sim/stats")["capacity"]["calls"].GetInt() == 0);
}

TEST_CASE("capacity: the options' capacity is in force from the start") {
  SimServer::Options options;
  options.faults.capacity = CapacitySchedule::fixed(7);
  Sim sim(options);
  CHECK(sim.server.stats().capacity == CapacityStats{7, 0, 0, 0});
  CHECK(sim.server.faults().capacity == CapacitySchedule::fixed(7));
}
