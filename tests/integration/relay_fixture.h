// One sfmc-relay process under test, with its own topics, consumer group,
// SFMC simulator and captured log, on the fixture's real Kafka broker.
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "kafka_harness.h"
#include "process.h"
#include "sim_server.h"

namespace sfmc::test {

struct RelayOptions {
  int partitions = 1;
  bool dead_letters = false;  // a dead-letter topic (RelayUnderTest::dead_letters)
  bool input_later = false;   // the test calls create_input() itself
  std::string extra_config;  // more top-level members, e.g. R"("pipeline": {...})"
  std::string bootstrap;     // empty: the ctest fixture's broker
  // The daemons' own bootstrap servers (a secure listener of the same
  // broker, say) and members of their kafka.properties; the test's clients
  // use `bootstrap` and PLAINTEXT.
  std::string relay_bootstrap;
  std::string kafka_properties;
  std::string sim_faults;    // faults JSON the simulator has from the start (before the daemon's first call)
  // The simulator over HTTPS with this certificate and key; its token
  // route's rest_instance_url; the relay's auth_base_url (empty: the simulator).
  std::string sim_tls_cert;
  std::string sim_tls_key;
  std::string sim_rest_instance_url;
  std::string auth_base_url;
  sim::EnsFeedOptions sim_ens;  // the simulator's ENS feed (off without a callback URL)
  std::chrono::milliseconds sim_status_delay{0};  // the simulator's status routes say queued until then
};

class RelayUnderTest {
 public:
  explicit RelayUnderTest(RelayOptions options = {});
  ~RelayUnderTest();

  // Another instance in the same group, with `environment` (NAME=value)
  // added; its transactional.id is the group's name and its index unless
  // `environment` sets SFMC_RELAY__KAFKA__TRANSACTIONAL_ID.
  void start_daemon(std::vector<std::string> environment = {});
  ChildProcess& daemon(size_t i = 0) { return *daemons_.at(i); }
  size_t daemon_count() const { return daemons_.size(); }

  std::vector<sim::RecordedRequest> sends() const;  // without token requests
  size_t token_requests() const;
  int64_t wait_for_commit(int32_t partition, int64_t expected) const;
  std::string log() const;          // every daemon's stderr so far
  std::string log(size_t i) const;  // daemon i's stderr so far
  void create_input() { create_topic(bootstrap, input, options_.partitions); }
  std::filesystem::path config_path() const { return dir_ / "config.json"; }
  std::filesystem::path dir() const { return dir_; }
  // Daemon i's admin port, from its "started" log line; its ENS receiver's,
  // from "ENS receiver listening". Each waits up to 30 s for the line.
  int admin_port(size_t i = 0) const;
  int ens_port(size_t i = 0) const;

  const std::string bootstrap;
  const std::string input = unique_name("sends");
  const std::string outcomes = unique_name("outcomes");
  const std::string dead_letters = unique_name("dead-letters");
  const std::string group = unique_name("relay");
  sim::SimServer sim;

 private:
  RelayOptions options_;
  std::filesystem::path log_file(size_t i) const;
  int logged_port(size_t i, const std::regex& line, const char* what) const;

  std::filesystem::path dir_;
  std::vector<std::unique_ptr<ChildProcess>> daemons_;
};

rapidjson::Document parse_json(const std::string& text);
// SFMC_TEST_GROUP_PROTOCOL=consumer: the daemons use the consumer group
// protocol of KIP-848 (the classic protocol otherwise).
bool consumer_group_protocol();
std::string read_file(const std::filesystem::path& path);

}  // namespace sfmc::test
