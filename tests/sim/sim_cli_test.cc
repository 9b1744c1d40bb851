// sfmc-sim's command line.
#include <doctest/doctest.h>

#include "sim_cli.h"

namespace {

using namespace sfmc::sim;
using std::chrono::milliseconds;

std::string parse_args(std::vector<std::string> args, CommandLine& command_line) {
  return parse_command_line(args, command_line);
}

}  // namespace

TEST_CASE("cli: the defaults are SFMC's: 2-day messageKey window, 1080 s tokens, no faults") {
  CommandLine command_line;
  CHECK(parse_args({}, command_line).empty());
  CHECK(command_line.options.message_key_window == std::chrono::hours(48));
  CHECK(command_line.options.token_ttl_s == 1080);
  CHECK(command_line.options.faults.injects_nothing());
  CHECK_FALSE(command_line.options.faults.include_token_route);
}

TEST_CASE("cli: state, limits and seeds") {
  CommandLine command_line;
  CHECK(parse_args({"--message-key-window", "60", "--message-key-limit=10", "--status-limit", "5", "--status-delay-ms",
                    "250", "--seed", "3", "--token-ttl", "30", "--port=8080"},
                   command_line)
            .empty());
  const auto& options = command_line.options;
  CHECK(options.message_key_window == std::chrono::seconds(60));
  CHECK(options.max_message_keys == 10);
  CHECK(options.max_status_records == 5);
  CHECK(options.status_delay == milliseconds(250));
  CHECK(options.random_seed == 3);
  CHECK(options.token_ttl_s == 30);
  CHECK(options.port == 8080);
}

TEST_CASE("cli: HTTPS and a REST host apart from the auth host") {
  CommandLine command_line;
  CHECK(parse_args({"--tls-cert", "/certs/sim.pem", "--tls-key=/certs/sim.key", "--rest-instance-url",
                    "https://rest.example.test/"},
                   command_line)
            .empty());
  CHECK(command_line.options.tls_cert_file == "/certs/sim.pem");
  CHECK(command_line.options.tls_key_file == "/certs/sim.key");
  CHECK(command_line.options.rest_instance_url == "https://rest.example.test/");
}

TEST_CASE("cli: fault flags apply in order on top of --faults") {
  CommandLine command_line;
  CHECK(parse_args({"--faults", R"({"rates":{"503":0.1},"retry_after_s":2})", "--fault-rate", "reset=0.05",
                    "--latency-ms", "5-15", "--fail-next", "3:429-blocked", "--outage=timeout", "--stall-ms", "100",
                    "--fault-seed", "9", "--faults-on-token"},
                   command_line)
            .empty());
  const auto& faults = command_line.options.faults;
  REQUIRE(faults.rates.size() == 2);
  CHECK(faults.rates[0].first == FaultAction{FaultKind::kUnavailable, 0});
  CHECK(faults.rates[1].first == FaultAction{FaultKind::kReset, 0});
  CHECK(faults.rates[1].second == doctest::Approx(0.05));
  CHECK(faults.retry_after_s == 2);
  CHECK(faults.latency_min == milliseconds(5));
  CHECK(faults.latency_max == milliseconds(15));
  CHECK(faults.fail_next_count == 3);
  CHECK(faults.fail_next == FaultAction{FaultKind::kBlocked, 0});
  CHECK(faults.outage == FaultAction{FaultKind::kTimeout, 0});
  CHECK(faults.stall == milliseconds(100));
  CHECK(faults.seed == 9u);
  CHECK(faults.include_token_route);
}

TEST_CASE("cli: --capacity takes a number or a schedule CALLS[@AFTER_MS],...") {
  CommandLine fixed;
  CHECK(parse_args({"--capacity", "24"}, fixed).empty());
  CHECK(fixed.options.faults.capacity == CapacitySchedule::fixed(24));
  CHECK_FALSE(fixed.options.faults.injects_nothing());

  CommandLine unlimited;
  CHECK(parse_args({"--capacity=0"}, unlimited).empty());
  CHECK(unlimited.options.faults.capacity.phases.empty());
  CHECK(unlimited.options.faults.injects_nothing());

  CommandLine scheduled;
  CHECK(parse_args({"--capacity", "24,64@10000,8@20000"}, scheduled).empty());
  const auto& capacity = scheduled.options.faults.capacity;
  CHECK(capacity.scheduled);
  CHECK(capacity.phases ==
        std::vector<CapacityPhase>{{milliseconds(0), 24}, {milliseconds(10000), 64}, {milliseconds(20000), 8}});
  // The same member as the JSON form, so GET /_sim/faults shows the array.
  std::string error;
  CHECK(parse_fault_config(
            R"({"capacity":[{"after_ms":0,"calls":24},{"after_ms":10000,"calls":64},{"after_ms":20000,"calls":8}]})",
            error)
            ->capacity == capacity);

  CommandLine explicit_start;
  CHECK(parse_args({"--capacity", "5@0,0@300"}, explicit_start).empty());
  CHECK(explicit_start.options.faults.capacity.phases ==
        std::vector<CapacityPhase>{{milliseconds(0), 5}, {milliseconds(300), 0}});

  // --capacity applies in order with the other fault flags: after --faults.
  CommandLine after_faults;
  CHECK(parse_args({"--faults", R"({"capacity":3})", "--capacity", "9"}, after_faults).empty());
  CHECK(after_faults.options.faults.capacity == CapacitySchedule::fixed(9));
}

TEST_CASE("cli: --capacity mistakes are reported with the flag and the form") {
  const std::string capacity_help =
      "invalid value for --capacity (N, or CALLS@MS,... from @0 with MS increasing, e.g. 24,64@10000): ";
  for (const char* value : {"-1", "many", "24@5", "24,8@0", "24,8@100,4@100", "24,", "@0", "24,8@", "24;8@100"}) {
    CAPTURE(value);
    CommandLine command_line;
    CHECK(parse_args({"--capacity", value}, command_line) == capacity_help + value);
  }
}

TEST_CASE("cli: mistakes are reported with the flag") {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"--fault-rate", "503=2"}, "invalid value for --fault-rate (NAME=P, the rates adding up to at most 1): 503=2"},
      {{"--fault-rate", "503=0.6", "--fault-rate", "500=0.6"},
       "invalid value for --fault-rate (NAME=P, the rates adding up to at most 1): 500=0.6"},
      {{"--latency-ms", "9-3"}, "invalid value for --latency-ms: 9-3"},
      {{"--fail-next", "3"}, "invalid value for --fail-next (N:NAME): 3"},
      {{"--outage", "200"}, "invalid value for --outage: 200"},
      {{"--faults", "{\"nope\":1}"}, "--faults: unknown member \"nope\""},
      {{"--faults", "@/nonexistent/faults.json"}, "cannot read /nonexistent/faults.json"},
      {{"--message-key-window", "-1"}, "invalid value for --message-key-window: -1"},
      {{"--threads", "0"}, "invalid value for --threads: 0"},
      {{"--bogus"}, "unknown option --bogus"},
      {{"--port"}, "missing value for --port"},
      {{"--tls-cert", "/certs/sim.pem"}, "--tls-cert and --tls-key go together"},
  };
  for (const auto& [args, expected] : cases) {
    CAPTURE(expected);
    CommandLine command_line;
    CHECK(parse_args(args, command_line) == expected);
  }
}
