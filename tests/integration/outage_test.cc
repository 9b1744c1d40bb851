// Dependency outages in the daemon's log: a line within 2 s of the start
// (with the reason, and the next try where the relay decides it), none per
// failed retry, and one when the dependency is back.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <sstream>

#include "delivery_harness.h"
#include "relay_fixture.h"
#include "sfmc/ens.h"

using namespace sfmc::test;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

// The log lines whose message starts with `prefix`.
std::vector<std::string> lines_starting(const std::string& log, const std::string& prefix) {
  std::vector<std::string> found;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(R"(,"msg":")" + prefix) != std::string::npos) found.push_back(line);
  }
  return found;
}

// Whether something accepts TCP connections at "127.0.0.1:PORT".
bool accepts_connections(const std::string& address) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1))));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  bool connected = connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0;
  close(fd);
  return connected;
}

}  // namespace

TEST_CASE("an SFMC token endpoint outage is logged within 2 s with the next try, once however many retries fail, "
          "and its end once, without any send waiting") {
  RelayOptions o;
  o.sim_faults = R"({"outage": "reset", "include_token_route": true})";
  o.extra_config = R"("retry": {"base_backoff_ms": 200, "max_backoff_ms": 1000})";
  RelayUnderTest relay(o);
  const std::string down = "SFMC token endpoint of account 'default' unreachable; next try in ";
  const std::string up = "SFMC token endpoint of account 'default' reachable again after ";

  // The outage starts with the daemon's first token request.
  REQUIRE(eventually(30s, [&] { return relay.token_requests() >= 1; }, 10ms));
  CHECK(eventually(2s, [&] { return !lines_starting(relay.log(), down).empty(); }));
  auto started = lines_starting(relay.log(), down);
  REQUIRE(started.size() == 1);
  CHECK(started[0].find(R"("level":"warning")") != std::string::npos);
  CHECK(started[0].find(R"("error":"token request to )" + relay.sim.base_url() + "/v2/token failed: ") !=
        std::string::npos);

  // Retried on its backoff although no event was ever produced; the failed
  // retries add no line.
  REQUIRE(eventually(20s, [&] { return relay.token_requests() >= 4; }));
  CHECK(lines_starting(relay.log(), down).size() == 1);
  CHECK(lines_starting(relay.log(), up).empty());

  relay.sim.clear_faults();
  CHECK(eventually(10s, [&] { return !lines_starting(relay.log(), up).empty(); }));
  CHECK(lines_starting(relay.log(), up).size() == 1);
  CHECK(lines_starting(relay.log(), up)[0].find(R"("level":"info")") != std::string::npos);
  CHECK(relay.daemon().running());
}

TEST_CASE("a Kafka broker outage is logged within 2 s of the broker going away, and its end once it is back; "
          "meanwhile the ENS receiver answers 503 in time, and acknowledges batches again after it") {
  OwnBroker broker;
  // The ENS receiver on the same broker (sharing its outage rather than starting one more broker).
  const std::string ens_topic = unique_name("ens-outage");
  create_topic(broker.bootstrap(), ens_topic, 1);
  const auto key_file = std::filesystem::temp_directory_path() / unique_name("ens-key");
  const std::string key = "ZW5zLW91dGFnZS1rZXk=";
  std::ofstream(key_file) << key;
  RelayOptions o;
  o.bootstrap = broker.bootstrap();
  o.extra_config = R"("ens": {"listen": "127.0.0.1:0", "topic": ")" + ens_topic + R"(", "signature_keys": [{"file": ")" +
                   key_file.string() + R"("}]})";
  RelayUnderTest relay(o);
  const int ens_port = relay.ens_port();
  auto post_ens = [&](const std::string& message_key) {
    const std::string body = R"([{"eventCategoryType":"TransactionalSendEvents.SmsDelivered","timestampUTC":1,)"
                             R"("info":{"messageKey":")" + message_key + R"("}}])";
    httplib::Client client("127.0.0.1", ens_port);
    client.set_read_timeout(10, 0);
    const auto start = steady_clock::now();
    auto answer = client.Post("/sfmc/ens", {{"x-sfmc-ens-signature", sfmc::EnsSignature::sign(key, body)}}, body,
                              "application/json");
    return std::make_pair(answer ? answer->status : -1, steady_clock::now() - start);
  };
  const std::string down = "Kafka brokers unreachable";
  const std::string up = "Kafka brokers reachable again after ";
  REQUIRE(eventually(60s, [&] { return relay.log().find("assigned 1 partition(s)") != std::string::npos; }));

  auto restarted = std::async(std::launch::async, [&] { broker.restart(5s); });
  // The outage starts when the broker stops taking connections.
  REQUIRE(eventually(60s, [&] { return !accepts_connections(broker.bootstrap()); }, 10ms));
  const auto gone = steady_clock::now();
  CHECK(eventually(2s, [&] { return !lines_starting(relay.log(), down).empty(); }));
  MESSAGE("logged " << duration_cast<milliseconds>(steady_clock::now() - gone).count()
                    << " ms after the broker stopped taking connections");
  auto started = lines_starting(relay.log(), down);
  REQUIRE(!started.empty());
  CHECK(started[0].find(R"("level":"warning")") != std::string::npos);
  // librdkafka's last connection error, or its count when none came before.
  CHECK(std::regex_search(started[0], std::regex(R"("error":"[^"]*(failed: Connection refused|brokers are down))")));
  CHECK(lines_starting(relay.log(), up).empty());
  // ENS gets its answer within its 3 s: 503, so that it sends the batch again.
  const auto [status, took] = post_ens("during-outage");
  CHECK(status == 503);
  CHECK(took < 3s);

  restarted.get();  // serving again
  CHECK(eventually(30s, [&] { return !lines_starting(relay.log(), up).empty(); }));
  // Every outage logged has ended, once.
  CHECK(lines_starting(relay.log(), up).size() == lines_starting(relay.log(), down).size());
  CHECK(relay.daemon().running());
  // ENS sends the batch again: now acknowledged, and on the topic.
  CHECK(eventually(30s, [&] { return post_ens("during-outage").first == 200; }, 200ms));
  bool on_topic = false;
  for (const auto& record : read_to_end(broker.bootstrap(), ens_topic, 1, 30s, false))
    on_topic |= record.key == std::optional<std::string>("during-outage");
  CHECK(on_topic);
  std::filesystem::remove(key_file);
}
