// Operating it: the admin endpoint scraped during a real run and parsed by
// Prometheus' own Python parser; readiness follows the group join; and every
// metric the chart's dashboard and alert rules use is on the page
// (tests/ops/check-ops --metrics-only), so a renamed metric fails here.
#include <doctest/doctest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include "relay_fixture.h"
#include "sfmc/ens.h"

using namespace sfmc::test;
using namespace std::chrono_literals;

namespace {

// Every sample of a /metrics page, via tests/python-env + parse_metrics.py.
rapidjson::Document parse_with_prometheus_client(const std::string& page) {
  auto dir = std::filesystem::temp_directory_path();
  auto file = dir / (unique_name("metrics") + ".txt");
  std::ofstream(file) << page;
  std::string command = std::string("\"$(") + SFMC_TESTS_DIR + "/python-env)\" " + SFMC_TESTS_DIR +
                        "/integration/parse_metrics.py " + file.string();
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, n);
  REQUIRE(pclose(pipe) == 0);
  std::filesystem::remove(file);
  return parse_json(output);
}

double sample(const rapidjson::Document& samples, const std::string& name) {
  auto it = samples.FindMember(name.c_str());
  return it == samples.MemberEnd() ? 0 : it->value.GetDouble();
}

// Runs `command`; its exit status (-1: it could not run) and output.
std::pair<int, std::string> run(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, output};
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, n);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace

TEST_CASE("/readyz flips only after the group join; /metrics adds up to the events sent and has every metric the "
          "dashboard and the alerts use") {
  // Dead letters, the status follow-up and the ENS receiver on, so that their
  // metrics are exported too (a single look, soon after the send; one batch).
  const std::string delivery = unique_name("delivery"), followup = unique_name("status-checks");
  const std::string ens_key = "b3BzLWVucy1rZXk=";
  const auto ens_key_file = std::filesystem::temp_directory_path() / (unique_name("ens-key") + ".txt");
  std::ofstream(ens_key_file) << ens_key;
  create_topic(broker_bootstrap(), delivery, 1);
  create_topic(broker_bootstrap(), followup, 1);
  RelayOptions options;
  options.input_later = true;  // nothing to join yet
  options.dead_letters = true;
  options.extra_config = R"("status": {"topic": ")" + delivery + R"(", "followup_topic": ")" + followup +
                         R"(", "schedule_ms": [200], "max_requests_per_second": 0},
                         "ens": {"listen": "127.0.0.1:0", "signature_keys": [{"file": ")" + ens_key_file.string() + R"("}]})";
  RelayUnderTest relay(options);
  httplib::Client admin("127.0.0.1", relay.admin_port());

  // Alive, but not ready while there is no partition to be assigned.
  auto status_of = [&](const char* path) {
    auto response = admin.Get(path);
    return response ? response->status : 0;
  };
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline && status_of("/healthz") != 200) std::this_thread::sleep_for(50ms);
  CHECK(status_of("/healthz") == 200);
  auto early = admin.Get("/readyz");
  REQUIRE(early);
  CHECK(early->status == 503);
  CHECK(early->body.find("no partitions assigned yet") != std::string::npos);
  auto early_page = admin.Get("/metrics");
  REQUIRE(early_page);
  auto early_samples = parse_with_prometheus_client(early_page->body);
  REQUIRE(early_samples.HasMember(R"(sfmc_relay_ready{})"));
  CHECK(sample(early_samples, R"(sfmc_relay_ready{})") == 0);

  relay.create_input();
  deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline && status_of("/readyz") != 200) std::this_thread::sleep_for(100ms);
  REQUIRE(status_of("/readyz") == 200);

  const int valid = 12, invalid = 3;
  for (int i = 0; i < valid; ++i)
    produce(relay.bootstrap, relay.input, std::to_string(i),
            R"({"operation":"transactional.sms.send","body":{"definitionKey":"d","recipients":[{"to":"1555555000)" +
                std::to_string(i % 10) + R"("}]}})");
  for (int i = 0; i < invalid; ++i) produce(relay.bootstrap, relay.input, std::nullopt, "not json");
  REQUIRE(read_topic(relay.bootstrap, relay.outcomes, valid + invalid, 60s).size() == valid + invalid);

  // Outcomes are counted when queued; poll until the page shows them all.
  rapidjson::Document samples;
  deadline = std::chrono::steady_clock::now() + 30s;
  do {
    auto page = admin.Get("/metrics");
    REQUIRE(page);
    REQUIRE(page->status == 200);
    samples = parse_with_prometheus_client(page->body);
  } while (sample(samples, R"(sfmc_relay_end_to_end_seconds_count{})") < valid + invalid &&
           std::chrono::steady_clock::now() < deadline);

  CHECK(sample(samples, R"(sfmc_relay_events_consumed_total{})") == valid + invalid);
  CHECK(sample(samples, R"(sfmc_relay_invalid_events_total{reason="not_json"})") == invalid);
  CHECK(sample(samples, R"(sfmc_relay_outcomes_total{operation="transactional.sms.send",status="accepted"})") == valid);
  CHECK(sample(samples, R"(sfmc_relay_outcomes_total{operation="",status="invalid"})") +
            sample(samples, R"(sfmc_relay_outcomes_total{operation="unknown",status="invalid"})") ==
        invalid);
  // Waiting sends merge into batch calls: the calls are the simulator's 202s,
  // and their recipients are the events, each sent once.
  const double calls = static_cast<double>(relay.sim.stats().count("POST /messaging/v1/sms/messages", 202));
  CHECK(calls >= 1);
  CHECK(sample(samples, R"(sfmc_relay_sfmc_requests_total{code="202",operation="transactional.sms.send"})") == calls);
  CHECK(sample(samples, R"(sfmc_relay_sfmc_request_duration_seconds_count{operation="transactional.sms.send"})") == calls);
  CHECK(sample(samples, R"(sfmc_relay_batch_recipients_count{operation="transactional.sms.send"})") == calls);
  CHECK(sample(samples, R"(sfmc_relay_batch_recipients_sum{operation="transactional.sms.send"})") == valid);
  CHECK(relay.sim.stats().message_keys == static_cast<size_t>(valid));
  CHECK(sample(samples, R"(sfmc_relay_token_requests_total{result="ok"})") == 1);
  CHECK(sample(samples, R"(sfmc_relay_end_to_end_seconds_count{})") == valid + invalid);
  CHECK(sample(samples, R"(sfmc_relay_in_flight_events{})") == 0);
  CHECK(sample(samples, R"(sfmc_relay_build_info{version="0.1.0"})") == 1);
  CHECK(sample(samples, R"(sfmc_relay_dead_letters_total{status="invalid"})") == invalid);
  CHECK(sample(samples, R"(sfmc_relay_ready{})") == 1);

  // One signed ENS batch, acknowledged.
  httplib::Client ens("127.0.0.1", relay.ens_port());
  const std::string batch = R"([{"eventCategoryType":"TransactionalSendEvents.SmsDelivered","timestampUTC":1,)"
                            R"("info":{"messageKey":"ops-mk-1"}}])";
  auto ens_answer = ens.Post("/sfmc/ens", {{"x-sfmc-ens-signature", sfmc::EnsSignature::sign(ens_key, batch)}}, batch,
                             "application/json");
  REQUIRE(ens_answer);
  CHECK(ens_answer->status == 200);
  std::filesystem::remove(ens_key_file);

  // The status follow-up's first looks and librdkafka's first statistics
  // (every 5 s) come later: scrape until both are on the page, then check
  // the dashboard's and the rules' metric names against it.
  std::string page;
  auto has = [&](const char* name) { return page.find(std::string("\n") + name + "{") != std::string::npos; };
  deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    auto response = admin.Get("/metrics");
    REQUIRE(response);
    page = response->body;
    if ((has("sfmc_relay_delivery_states_total") && has("sfmc_relay_consumer_lag")) ||
        std::chrono::steady_clock::now() >= deadline)
      break;
    std::this_thread::sleep_for(200ms);
  }
  CHECK(has("sfmc_relay_delivery_states_total"));
  CHECK(has("sfmc_relay_consumer_lag"));
  CHECK(has("sfmc_relay_ens_events_total"));
  auto scrape = std::filesystem::temp_directory_path() / (unique_name("scrape") + ".txt");
  std::ofstream(scrape) << page;
  const auto checked = run(std::string(SFMC_TESTS_DIR) + "/ops/check-ops --metrics-only " + scrape.string());
  INFO("tests/ops/check-ops --metrics-only " << scrape.string() << ":\n" << checked.second);
  CHECK(checked.first == 0);
  if (checked.first == 0) std::filesystem::remove(scrape);  // else kept, to look at

  relay.daemon().signal(SIGTERM);
  CHECK(relay.daemon().wait(30s) == 0);
}
