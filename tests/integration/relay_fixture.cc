#include "relay_fixture.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace sfmc::test {

using namespace std::chrono_literals;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

rapidjson::Document parse_json(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  if (doc.HasParseError()) throw std::runtime_error("not JSON: " + text);
  return doc;
}

bool consumer_group_protocol() {
  const char* protocol = std::getenv("SFMC_TEST_GROUP_PROTOCOL");
  return protocol != nullptr && std::string_view(protocol) == "consumer";
}

namespace {

// The consumer group protocol of KIP-848 has its session timeout and
// heartbeat set by the broker (tests/kafka/broker: 6 s and 0.5 s, as here
// for the classic protocol). SFMC_TEST_KAFKA_DEBUG: librdkafka's debug
// contexts for the consumer (cgrp,broker,...), to see into a failure.
std::string consumer_properties() {
  const char* debug = std::getenv("SFMC_TEST_KAFKA_DEBUG");
  std::string common = R"("auto.commit.interval.ms": "200", "topic.metadata.refresh.interval.ms": "1000")";
  if (debug != nullptr) common += R"(, "debug": ")" + std::string(debug) + "\"";
  if (consumer_group_protocol()) return R"({"group.protocol": "consumer", )" + common + "}";
  return R"({"session.timeout.ms": "6000", "heartbeat.interval.ms": "500", )" + common + "}";
}

}  // namespace

RelayUnderTest::RelayUnderTest(RelayOptions options)
    : bootstrap(options.bootstrap.empty() ? broker_bootstrap() : options.bootstrap),
      sim([&] {
        sim::SimOptions sim_options;
        sim_options.status_delay = options.sim_status_delay;
        sim_options.tls_cert_file = options.sim_tls_cert;
        sim_options.tls_key_file = options.sim_tls_key;
        sim_options.rest_instance_url = options.sim_rest_instance_url;
        sim_options.ens = options.sim_ens;
        return sim_options;
      }()),
      options_(std::move(options)),
      dir_(std::filesystem::temp_directory_path() / unique_name("relay")) {
  std::filesystem::create_directories(dir_);
  if (!options_.input_later) create_input();
  create_topic(bootstrap, outcomes, 1);
  if (options_.dead_letters) create_topic(bootstrap, dead_letters, 1);
  sim.start();
  if (auto refused = options_.sim_faults.empty() ? "" : sim.set_faults_json(options_.sim_faults); !refused.empty())
    throw std::runtime_error("sim_faults refused: " + refused);
  std::ofstream(dir_ / "config.json") << R"({
    "kafka": {"bootstrap_servers": ")" << (options_.relay_bootstrap.empty() ? bootstrap : options_.relay_bootstrap)
                             << R"(", "group_id": ")" << group << R"(",)"
                             << (options_.kafka_properties.empty() ? "" : R"("properties": {)" + options_.kafka_properties + "},") << R"(
              "input_topics": [")" << input << R"("], "outcome_topic": ")" << outcomes << R"(",)"
                             << (options_.dead_letters ? R"("dead_letter_topic": ")" + dead_letters + "\"," : "") << R"(
              "consumer_properties": )" << consumer_properties() << R"(},
    "accounts": {"default": {"auth_base_url": ")"
                             << (options_.auth_base_url.empty() ? sim.base_url() : options_.auth_base_url) << R"(",
                             "client_id": "sim-client",
                             "client_secret_env": "SFMC_TEST_SECRET"}},
    "admin": {"listen": "127.0.0.1:0"},
    "log": {"level": "debug"})" << (options_.extra_config.empty() ? "" : ",\n    " + options_.extra_config) << R"(
  })";
  start_daemon();
}

RelayUnderTest::~RelayUnderTest() {
  daemons_.clear();  // SIGKILLs what still runs
  if (std::getenv("SFMC_TEST_KEEP_LOGS") != nullptr) return;  // the daemons' logs and configuration stay in dir_
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void RelayUnderTest::start_daemon(std::vector<std::string> environment) {
  const char* bin = std::getenv("SFMC_RELAY_BIN");
  if (!bin) throw std::runtime_error("SFMC_RELAY_BIN is not set: run through ctest");
  environment.push_back("SFMC_TEST_SECRET=sim-secret");
  const std::string id_variable = "SFMC_RELAY__KAFKA__TRANSACTIONAL_ID=";
  if (std::none_of(environment.begin(), environment.end(), [&](const std::string& v) { return v.starts_with(id_variable); }))
    environment.push_back(id_variable + group + "-" + std::to_string(daemons_.size()));
  daemons_.push_back(std::make_unique<ChildProcess>(
      bin, std::vector<std::string>{"run", "--config", (dir_ / "config.json").string()}, std::move(environment),
      log_file(daemons_.size()).string()));
}

std::vector<sim::RecordedRequest> RelayUnderTest::sends() const {
  std::vector<sim::RecordedRequest> out;
  for (auto& r : sim.requests())
    if (r.path != "/v2/token") out.push_back(r);
  return out;
}

size_t RelayUnderTest::token_requests() const {
  size_t n = 0;
  for (auto& r : sim.requests()) n += r.path == "/v2/token";
  return n;
}

int64_t RelayUnderTest::wait_for_commit(int32_t partition, int64_t expected) const {
  int64_t committed = -1;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    committed = committed_offset(bootstrap, group, input, partition);
    if (committed >= expected) break;
    std::this_thread::sleep_for(100ms);
  }
  return committed;
}

std::filesystem::path RelayUnderTest::log_file(size_t i) const {
  return dir_ / ("daemon-" + std::to_string(i) + ".log");
}

std::string RelayUnderTest::log() const {
  std::string text;
  for (size_t i = 0; i < daemons_.size(); ++i) text += log(i);
  return text;
}

std::string RelayUnderTest::log(size_t i) const { return read_file(log_file(i)); }

int RelayUnderTest::logged_port(size_t i, const std::regex& line, const char* what) const {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch match;
    std::string text = log(i);
    if (std::regex_search(text, match, line)) return std::stoi(match[1]);
    std::this_thread::sleep_for(20ms);
  }
  throw std::runtime_error(std::string("the daemon logged no ") + what + " port within 30 s:\n" + log(i));
}

int RelayUnderTest::admin_port(size_t i) const {
  static const std::regex kPort(R"re("admin":"127\.0\.0\.1:0 \(port ([0-9]+)\)")re");
  return logged_port(i, kPort, "admin");
}

int RelayUnderTest::ens_port(size_t i) const {
  static const std::regex kPort(R"re("msg":"ENS receiver listening".*"port":([0-9]+))re");
  return logged_port(i, kPort, "ENS receiver");
}

}  // namespace sfmc::test
