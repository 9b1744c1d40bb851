// FaultPlan and the faults JSON, without HTTP: exact decision sequences.
#include <doctest/doctest.h>

#include <vector>

#include "sim_fault_plan.h"

namespace {

using namespace sfmc::sim;
using std::chrono::milliseconds;

FaultAction unavailable() { return FaultAction{FaultKind::kUnavailable, 0}; }

std::vector<std::string> names_of(FaultPlan& plan, int count) {
  std::vector<std::string> names;
  for (int i = 0; i < count; ++i) {
    const auto decision = plan.decide(FaultScope::kSend);
    names.push_back(decision.action ? fault_name(*decision.action) : "-");
  }
  return names;
}

}  // namespace

TEST_CASE("fault plan: with nothing configured every request is served normally") {
  FaultPlan plan;
  for (const auto scope : {FaultScope::kNone, FaultScope::kSend, FaultScope::kToken}) {
    const auto decision = plan.decide(scope);
    CHECK(decision.delay == milliseconds(0));
    CHECK_FALSE(decision.action);
  }
}

TEST_CASE("fault plan: fail_next fails exactly the next N sends, then nothing; config() shows what is left") {
  FaultConfig config;
  config.fail_next_count = 2;
  config.fail_next = FaultAction{FaultKind::kStatus, 500};
  FaultPlan plan(config);
  CHECK(names_of(plan, 1) == std::vector<std::string>{"500"});
  CHECK(plan.config().fail_next_count == 1);
  CHECK(names_of(plan, 3) == std::vector<std::string>{"500", "-", "-"});
  CHECK(plan.config().fail_next_count == 0);
}

TEST_CASE("fault plan: an outage wins over fail_next, which waits until the outage ends") {
  FaultConfig config;
  config.outage = FaultAction{FaultKind::kTimeout, 0};
  config.fail_next_count = 1;
  config.fail_next = unavailable();
  FaultPlan plan(config);
  CHECK(names_of(plan, 3) == std::vector<std::string>{"timeout", "timeout", "timeout"});
  config.outage.reset();
  plan.configure(config);
  CHECK(names_of(plan, 2) == std::vector<std::string>{"503", "-"});
}

TEST_CASE("fault plan: the token route is faulted only with include_token_route; kNone never") {
  FaultConfig config;
  config.outage = unavailable();
  FaultPlan plan(config);
  CHECK_FALSE(plan.decide(FaultScope::kToken).action);
  CHECK_FALSE(plan.decide(FaultScope::kNone).action);
  config.include_token_route = true;
  plan.configure(config);
  CHECK(plan.decide(FaultScope::kToken).action == unavailable());
  CHECK_FALSE(plan.decide(FaultScope::kNone).action);
}

TEST_CASE("fault plan: a seed gives the same sequence every time, and configure() with the seed restarts it") {
  FaultConfig config;
  config.rates = {{unavailable(), 0.3}, {FaultAction{FaultKind::kReset, 0}, 0.2}};
  config.latency_min = milliseconds(5);
  config.latency_max = milliseconds(15);
  config.seed = 42;
  FaultPlan first(config);
  FaultPlan second(config);
  std::vector<FaultDecision> a, b;
  for (int i = 0; i < 200; ++i) {
    a.push_back(first.decide(FaultScope::kSend));
    b.push_back(second.decide(FaultScope::kSend));
  }
  CHECK(a == b);
  first.configure(config);
  CHECK(first.decide(FaultScope::kSend) == a.front());
  for (const auto& decision : a) {
    CHECK(decision.delay >= milliseconds(5));
    CHECK(decision.delay <= milliseconds(15));
  }
}

TEST_CASE("fault plan: rates inject in proportion (10000 seeded draws)") {
  FaultConfig config;
  config.rates = {{unavailable(), 0.1}, {FaultAction{FaultKind::kThrottled, 0}, 0.05}};
  config.seed = 7;
  FaultPlan plan(config);
  int unavailable_count = 0, throttled = 0, served = 0;
  for (int i = 0; i < 10000; ++i) {
    const auto decision = plan.decide(FaultScope::kSend);
    if (!decision.action) {
      ++served;
    } else if (decision.action->kind == FaultKind::kUnavailable) {
      ++unavailable_count;
    } else {
      ++throttled;
    }
  }
  CHECK(unavailable_count + throttled + served == 10000);
  CHECK(unavailable_count > 900);
  CHECK(unavailable_count < 1100);
  CHECK(throttled > 400);
  CHECK(throttled < 600);
}

TEST_CASE("fault plan: a fixed latency delays every send by exactly that much") {
  FaultConfig config;
  config.latency_min = config.latency_max = milliseconds(25);
  FaultPlan plan(config);
  for (int i = 0; i < 3; ++i) {
    const auto decision = plan.decide(FaultScope::kSend);
    CHECK(decision.delay == milliseconds(25));
    CHECK_FALSE(decision.action);
  }
  CHECK(plan.decide(FaultScope::kNone).delay == milliseconds(0));
}

TEST_CASE("fault names: SFMC's special statuses, any 4xx/5xx, connection faults; nothing else") {
  CHECK(parse_fault_name("503") == unavailable());
  CHECK(parse_fault_name("429") == FaultAction{FaultKind::kThrottled, 0});
  CHECK(parse_fault_name("429-blocked") == FaultAction{FaultKind::kBlocked, 0});
  CHECK(parse_fault_name("401") == FaultAction{FaultKind::kUnauthorized, 0});
  CHECK(parse_fault_name("418") == FaultAction{FaultKind::kStatus, 418});
  CHECK(parse_fault_name("partial") == FaultAction{FaultKind::kPartial, 0});
  CHECK_FALSE(parse_fault_name("200"));
  CHECK_FALSE(parse_fault_name("600"));
  CHECK_FALSE(parse_fault_name("50x"));
  CHECK(fault_name(FaultAction{FaultKind::kStatus, 502}) == "502");
  CHECK(fault_status(FaultAction{FaultKind::kBlocked, 0}) == 429);
  CHECK(fault_status(FaultAction{FaultKind::kReset, 0}) == 0);
}

TEST_CASE("faults JSON: every member is read, and written back the same way") {
  const std::string text = R"({"latency_ms":{"min":5,"max":20},"rates":{"500":0.1,"reset":0.05},"outage":"timeout",)"
                           R"("fail_next":{"count":3,"fault":"429-blocked"},"retry_after_s":7,"stall_ms":1500,)"
                           R"("partial_stalls":true,"include_token_route":true,"seed":99,)"
                           R"("capacity":[{"after_ms":0,"calls":4},{"after_ms":500,"calls":2}]})";
  std::string error;
  const auto config = parse_fault_config(text, error);
  REQUIRE(config);
  CHECK(error.empty());
  CHECK(config->latency_min == milliseconds(5));
  CHECK(config->latency_max == milliseconds(20));
  REQUIRE(config->rates.size() == 2);
  CHECK(config->rates[0].first == FaultAction{FaultKind::kStatus, 500});
  CHECK(config->rates[1].second == doctest::Approx(0.05));
  CHECK(config->outage == FaultAction{FaultKind::kTimeout, 0});
  CHECK(config->fail_next_count == 3);
  CHECK(config->fail_next == FaultAction{FaultKind::kBlocked, 0});
  CHECK(config->retry_after_s == 7);
  CHECK(config->stall == milliseconds(1500));
  CHECK(config->partial_stalls);
  CHECK(config->include_token_route);
  CHECK(config->seed == 99u);
  CHECK(config->capacity.phases == std::vector<CapacityPhase>{{milliseconds(0), 4}, {milliseconds(500), 2}});
  CHECK(fault_config_json(*config) ==
        R"({"latency_ms":{"min":5,"max":20},"rates":{"500":0.1,"reset":0.05},"outage":"timeout",)"
        R"("fail_next":{"count":3,"fault":"429-blocked"},"retry_after_s":7,"stall_ms":1500,)"
        R"("partial_stalls":true,"include_token_route":true,"seed":99,)"
        R"("capacity":[{"after_ms":0,"calls":4},{"after_ms":500,"calls":2}]})");
}

TEST_CASE("faults JSON: a number is a fixed latency, a status may be a number, {} is no fault") {
  std::string error;
  const auto fixed = parse_fault_config(R"({"latency_ms":40,"outage":503,"fail_next":{"count":1}})", error);
  REQUIRE(fixed);
  CHECK(fixed->latency_min == milliseconds(40));
  CHECK(fixed->latency_max == milliseconds(40));
  CHECK(fixed->outage == unavailable());
  CHECK(fixed->fail_next == unavailable());  // the default fault
  const auto none = parse_fault_config("{}", error);
  REQUIRE(none);
  CHECK(none->injects_nothing());
}

TEST_CASE("faults JSON: mistakes are refused with a sentence naming the member") {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"rate":{}})", R"(unknown member "rate")"},
      {R"({"rates":{"503":1.5}})", "rates.503 must be a probability between 0 and 1"},
      {R"({"rates":{"503":0.6,"500":0.6}})", "rates add up to more than 1"},
      {R"({"rates":{"302":0.1}})", R"(rates: unknown fault "302")"},
      {R"({"latency_ms":{"min":9,"max":3}})", "latency_ms.min must not exceed latency_ms.max"},
      {R"({"latency_ms":-1})", "latency_ms must be a non-negative integer"},
      {R"({"outage":"sometimes"})", R"(outage: unknown fault "sometimes")"},
      {R"({"fail_next":{"count":2,"status":503}})", R"(fail_next: unknown member "status")"},
      {R"([1])", "the faults must be a JSON object"},
  };
  for (const auto& [text, expected] : cases) {
    CAPTURE(text);
    std::string error;
    CHECK_FALSE(parse_fault_config(text, error));
    CHECK(error == expected);
  }
}
