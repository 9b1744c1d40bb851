// The secure set-ups users run, on the real broker's secure listeners
// (tests/kafka/broker: SASL_SSL with SCRAM-SHA-512, and SSL with client
// certificates, both with a throwaway CA) and the HTTPS simulator: the
// whole path (events in, sends, outcomes and a dead letter out) at least
// once and exactly once, with every secret read from a file (the SCRAM
// password, the client key's password); no secret's value in any log line,
// outcome, dead letter or /metrics page of the runs; a refused connection
// said once, with its reason; and an SFMC host whose certificate fails
// gets nothing, neither the client secret nor an event's body.
#include <doctest/doctest.h>
#include <httplib.h>

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "delivery_harness.h"
#include "relay_fixture.h"

using namespace sfmc::test;
using namespace std::chrono_literals;
namespace sim = sfmc::sim;

namespace {

constexpr int kEvents = 400;
constexpr int kKeys = 40;
constexpr int kPartitions = 2;
constexpr const char* kSfmcSecret = "sim-secret";  // the fixture's client secret (SFMC_TEST_SECRET)

std::string tls_file(const std::string& name) { return (broker_state_dir() / "tls" / name).string(); }

std::string listener(const std::string& name) {
  std::string address = read_file(broker_state_dir() / name);
  while (!address.empty() && (address.back() == '\n' || address.back() == ' ')) address.pop_back();
  REQUIRE_MESSAGE(!address.empty(), "the fixture broker wrote no " << name << " (tests/kafka/broker start)");
  return address;
}

// librdkafka properties (members of kafka.properties) for each listener;
// secrets as {"file": ...}.
std::string sasl_ssl_properties() {
  return R"("security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "relay",
            "sasl.password": {"file": ")" +
         tls_file("scram-password") + R"("}, "ssl.ca.location": ")" + tls_file("ca.pem") + "\"";
}

std::string mtls_properties() {
  return R"("security.protocol": "SSL", "ssl.ca.location": ")" + tls_file("ca.pem") +
         R"(", "ssl.certificate.location": ")" + tls_file("client.pem") + R"(", "ssl.key.location": ")" +
         tls_file("client.key") + R"(", "ssl.key.password": {"file": ")" + tls_file("client.key.password") + "\"}";
}

// The relay trusts the test CA for SFMC (http.ca_file), and the simulator
// serves HTTPS with a certificate from it.
std::string trusting_test_ca() { return R"("http": {"ca_file": ")" + tls_file("ca.pem") + "\"}"; }

RelayOptions over_https(RelayOptions o = {}) {
  o.sim_tls_cert = tls_file("sfmc.pem");
  o.sim_tls_key = tls_file("sfmc.key");
  o.extra_config += (o.extra_config.empty() ? "" : ", ") + trusting_test_ca();
  return o;
}

RelayOptions secure(const std::string& bootstrap, const std::string& properties, bool exactly_once) {
  RelayOptions o;
  o.partitions = kPartitions;
  o.dead_letters = true;
  o.relay_bootstrap = bootstrap;
  o.kafka_properties = properties;
  o.extra_config = std::string(R"("pipeline": {"exactly_once": )") + (exactly_once ? "true" : "false") + "}";
  return over_https(std::move(o));
}

std::string metrics_page(int port) {
  httplib::Client admin("127.0.0.1", port);
  auto page = admin.Get("/metrics");
  return page && page->status == 200 ? page->body : std::string();
}

// Two relays at once, one in each mode, over the same listener; each must
// deliver its workload with one committed outcome per event.
void run_both_modes(const std::string& bootstrap, const std::string& properties) {
  const Workload workload(kEvents, kKeys, kPartitions);
  RelayUnderTest at_least_once(secure(bootstrap, properties, false));
  RelayUnderTest exactly_once(secure(bootstrap, properties, true));
  std::vector<RelayUnderTest*> relays{&at_least_once, &exactly_once};
  std::vector<std::vector<int64_t>> ends;
  for (auto* relay : relays) {
    ends.push_back(produce_workload(*relay, workload));
    // And one event that cannot be read: an outcome that says so, and a dead letter.
    produce(relay->bootstrap, relay->input, std::string("bad"), "{not json", 0);
    ++ends.back()[0];
  }

  const std::vector<std::string> secrets{read_file(tls_file("scram-password")),
                                         read_file(tls_file("client.key.password"))};
  for (size_t i = 0; i < relays.size(); ++i) {
    RelayUnderTest& relay = *relays[i];
    CAPTURE(i);
    const bool committed = all_committed(relay, ends[i], 120s);
    if (!committed) MESSAGE("log:\n" << relay.log());
    REQUIRE(committed);
    auto outcomes = read_to_end(relay.bootstrap, relay.outcomes, 1, 60s);
    auto tally = tally_outcomes(workload, outcomes, relay.input);
    CAPTURE(tally.first_problem);
    CHECK(tally.lost() == 0);
    CHECK(tally.duplicated() == 0);
    CHECK(tally.not_accepted == 0);
    CHECK(tally.foreign == 1);  // the invalid event's
    auto dead_letters = read_to_end(relay.bootstrap, relay.dead_letters, 1, 60s);
    CHECK(dead_letters.size() == 1);
    if (i == 1) CHECK(scrape_metrics(relay.admin_port())["sfmc_relay_transactions_total{result=\"committed\"}"] > 0);
    CHECK(relay.sim.stats().message_keys == static_cast<size_t>(kEvents));
    CHECK(relay.sim.base_url().starts_with("https://"));  // tokens and sends over verified TLS

    // No secret anywhere the run wrote.
    std::string written = relay.log() + metrics_page(relay.admin_port());
    for (const auto& record : outcomes) written += record.value;
    for (const auto& record : dead_letters) {
      written += record.value;
      for (const auto& [name, value] : record.headers) written.append(name).append(value);
    }
    for (const auto& secret : secrets) {
      REQUIRE(secret.size() >= 16);
      CHECK_MESSAGE(written.find(secret) == std::string::npos, "a secret's value was written");
    }
    CHECK_MESSAGE(written.find(kSfmcSecret) == std::string::npos, "the SFMC client secret was written");
  }
}

}  // namespace

TEST_CASE("SASL_SSL with SCRAM-SHA-512, the password from a file: the whole path, at least once and exactly once") {
  run_both_modes(listener("bootstrap-sasl-ssl"), sasl_ssl_properties());
}

TEST_CASE("mTLS (a client certificate, its key's password from a file): the whole path, at least once and exactly "
          "once") {
  run_both_modes(listener("bootstrap-ssl"), mtls_properties());
}

// The CPU seconds a process has used (user + system), from /proc.
double cpu_seconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));  // after "pid (comm) "
  std::vector<std::string> f{std::istream_iterator<std::string>(fields), std::istream_iterator<std::string>()};
  REQUIRE(f.size() > 13);
  return static_cast<double>(std::stoll(f[11]) + std::stoll(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A relay whose broker connection is refused: it says why in its outage
// line (`expected`: the line's error up to librdkafka's own variable tail),
// /readyz answers 503 with the same reason, it keeps retrying without
// spinning, and librdkafka's own line per attempt stays at debug level.
void expect_refused(RelayOptions options, const std::string& expected, const std::string& librdkafka_words,
                    const std::vector<std::string>& secrets) {
  RelayUnderTest relay(std::move(options));
  const std::string line = R"("msg":"Kafka brokers unreachable","error":")" + expected;
  const bool said = eventually(60s, [&] { return relay.log().find(line) != std::string::npos; }, 100ms);
  if (!said) MESSAGE("log:\n" << relay.log());
  REQUIRE(said);
  // After the relay's words, librdkafka's own (which vary with the path
  // that met the failure).
  const std::string log_now = relay.log();
  const size_t at = log_now.find(line);
  CHECK_MESSAGE(log_now.substr(at, log_now.find('\n', at) - at).find(librdkafka_words) != std::string::npos,
                log_now.substr(at, log_now.find('\n', at) - at));

  httplib::Client admin("127.0.0.1", relay.admin_port());
  auto ready = admin.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  CHECK_MESSAGE(ready->body.find("Kafka brokers unreachable: " + expected) != std::string::npos, ready->body);

  // Retrying, not spinning: a few percent of a core at most while refused.
  const double before = cpu_seconds(relay.daemon().pid());
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(3s);  // a measurement window, not a wait for an event
  const double used = cpu_seconds(relay.daemon().pid()) - before;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE("CPU while refused: " << used << " s in " << seconds << " s");
  CHECK(used < 0.15 * seconds);
  CHECK(relay.daemon().running());

  // librdkafka's own lines about each attempt stay at debug level: no error
  // line but its warnings about the client certificate it cannot send.
  const std::string log = relay.log();
  CHECK_MESSAGE(log.find(R"("level":"error")") == std::string::npos, log);
  for (const auto& secret : secrets) CHECK_MESSAGE(log.find(secret) == std::string::npos, "a secret was logged");
}

TEST_CASE("a wrong SCRAM password: one line naming the broker, the mechanism and the user; not ready, with the "
          "reason; retrying without spinning") {
  auto dir = std::filesystem::temp_directory_path() / unique_name("wrong-password");
  std::filesystem::create_directories(dir);
  const std::string wrong = "not-the-password-" + unique_name("x");
  std::ofstream(dir / "password") << wrong;
  const std::string broker = listener("bootstrap-sasl-ssl");
  expect_refused(secure(broker,
                        R"("security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "relay",
                           "sasl.password": {"file": ")" +
                            (dir / "password").string() + R"("}, "ssl.ca.location": ")" + tls_file("ca.pem") + "\"",
                        false),
                 "Kafka broker " + broker +
                     " refused the SASL credentials of user relay (mechanism SCRAM-SHA-512; check sasl.username and "
                     "sasl.password): ",
                 "Authentication failed during authentication due to invalid credentials", {wrong, read_file(tls_file("scram-password"))});
  std::filesystem::remove_all(dir);
}

TEST_CASE("a CA that did not sign the broker's certificate: the line names the broker and the CA file") {
  const std::string broker = listener("bootstrap-ssl");
  expect_refused(secure(broker,
                        R"("security.protocol": "SSL", "ssl.ca.location": ")" + tls_file("other-ca.pem") +
                            R"(", "ssl.certificate.location": ")" + tls_file("client.pem") +
                            R"(", "ssl.key.location": ")" + tls_file("client.key") +
                            R"(", "ssl.key.password": {"file": ")" + tls_file("client.key.password") + "\"}",
                        false),
                 "the certificate of Kafka broker " + broker +
                     " is not trusted: it is not signed by a CA in ssl.ca.location " + tls_file("other-ca.pem") +
                     ", or it does not name the host: ",
                 "certificate verify failed", {read_file(tls_file("client.key.password"))});
}

TEST_CASE("a client certificate the broker does not trust: the line names the broker and the certificate file") {
  const std::string broker = listener("bootstrap-ssl");
  expect_refused(secure(broker,
                        R"("security.protocol": "SSL", "ssl.ca.location": ")" + tls_file("ca.pem") +
                            R"(", "ssl.certificate.location": ")" + tls_file("rogue-client.pem") +
                            R"(", "ssl.key.location": ")" + tls_file("rogue-client.key") + "\"",
                        false),
                 "Kafka broker " + broker + " refused the client certificate ssl.certificate.location " +
                     tls_file("rogue-client.pem") + " (not signed by a CA it trusts, expired, or not for client use): ",
                 "bad certificate", {});
}

namespace {

constexpr int kRefusedEvents = 3;
constexpr const char* kRecipient = "15555550100";

std::string sms_event(int i) {
  return R"({"operation":"transactional.sms.send","id":"tls-)" + std::to_string(i) +
         R"(","body":{"definitionKey":"d","recipients":[{"contactKey":"c","to":")" + kRecipient + R"("}]}})";
}

// Another SFMC simulator, over HTTPS with `certificate` (NAME.pem and
// NAME.key of the test CA directory), recording every request that
// reaches it; the relay may be pointed at it.
std::unique_ptr<sim::SimServer> start_impostor(const std::string& certificate) {
  sim::SimOptions options;
  options.tls_cert_file = tls_file(certificate + ".pem");
  options.tls_key_file = tls_file(certificate + ".key");
  auto server = std::make_unique<sim::SimServer>(options);
  server->start();
  return server;
}

// The outcomes of kRefusedEvents events, each `failed` with an error that
// starts with `reason` (and, after curl's words, names the trusted CAs).
std::string expect_failed(RelayUnderTest& relay, const std::string& reason, const std::string& curl_words) {
  for (int i = 0; i < kRefusedEvents; ++i) produce(relay.bootstrap, relay.input, std::string("k"), sms_event(i));
  auto records = read_topic(relay.bootstrap, relay.outcomes, kRefusedEvents, 60s);
  if (records.size() != static_cast<size_t>(kRefusedEvents)) MESSAGE("log:\n" << relay.log());
  REQUIRE(records.size() == static_cast<size_t>(kRefusedEvents));
  std::string written;
  for (const auto& record : records) {
    written += record.value;
    auto outcome = parse_json(record.value);
    CHECK(std::string(outcome["status"].GetString()) == "failed");
    REQUIRE(outcome["errors"].Size() == 1);
    const std::string error = outcome["errors"][0]["message"].GetString();
    CHECK_MESSAGE(error.starts_with(reason), error);
    CHECK_MESSAGE(error.find(curl_words) != std::string::npos, error);
    CHECK_MESSAGE(error.ends_with(" (trusted CAs: " + tls_file("ca.pem") + ")"), error);
  }
  return written;
}

// The log lines whose message starts with `prefix`.
std::vector<std::string> log_lines(const std::string& log, const std::string& prefix) {
  std::vector<std::string> found;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);)
    if (line.find(R"("msg":")" + prefix) != std::string::npos) found.push_back(line);
  return found;
}

// What curl says of each refused certificate.
const std::vector<std::pair<std::string, std::string>> kRefusedCertificates{
    {"sfmc-untrusted", "SSL certificate problem: unable to get local issuer certificate"},
    {"sfmc-wrong-host", "SSL: no alternative certificate subject name matches target host name '127.0.0.1'"},
};

}  // namespace

TEST_CASE("a token endpoint whose certificate fails (an untrusted CA, another host's name): nothing reaches it, not "
          "the client secret; each outcome is failed and says TLS; one line says why") {
  for (const auto& [certificate, curl_words] : kRefusedCertificates) {
    CAPTURE(certificate);
    auto started = start_impostor(certificate);
    sim::SimServer& impostor = *started;
    RelayOptions o;
    o.auth_base_url = impostor.base_url();
    RelayUnderTest relay(over_https(o));
    const std::string origin = impostor.base_url();
    std::string written = expect_failed(relay,
                                        "no SFMC token for account 'default': token request to " + origin +
                                            "/v2/token failed: TLS: the certificate of " + origin +
                                            " was refused, nothing was sent: ",
                                        curl_words);
    CHECK(impostor.requests().empty());
    CHECK(impostor.stats().tokens_issued == 0);
    CHECK(relay.sim.requests().empty());
    const std::string log = relay.log();
    const auto lines = log_lines(log, "SFMC token endpoint of account 'default' unreachable");
    CHECK_MESSAGE(lines.size() == 1, log);
    if (!lines.empty()) CHECK(lines[0].find("TLS: the certificate of " + origin + " was refused") != std::string::npos);
    written += log + metrics_page(relay.admin_port());
    CHECK(written.find(kSfmcSecret) == std::string::npos);
  }
}

TEST_CASE("a REST host whose certificate fails: the token comes from the trusted auth host, no event's body reaches "
          "the REST host; each outcome is failed and says TLS; one line says why") {
  auto started = start_impostor("sfmc-wrong-host");
  sim::SimServer& rest = *started;
  RelayOptions o;
  o.sim_rest_instance_url = rest.base_url() + "/";
  RelayUnderTest relay(over_https(o));
  expect_failed(relay, "no response from SFMC: TLS: the certificate of " + rest.base_url() +
                           " was refused, nothing was sent: ", kRefusedCertificates[1].second);
  CHECK(rest.requests().empty());
  CHECK(relay.token_requests() >= 1);  // the auth host is trusted
  CHECK(relay.sends().empty());
  const auto lines = log_lines(relay.log(), "SFMC REST endpoint of account 'default' unreachable");
  CHECK_MESSAGE(lines.size() == 1, relay.log());
}

TEST_CASE("what the refusals above keep from an impostor, a relay that skips verification hands it: the client "
          "secret, then the event's body") {
  auto started = start_impostor("sfmc-untrusted");
  sim::SimServer& impostor = *started;
  RelayOptions o;
  o.auth_base_url = impostor.base_url();
  o.extra_config = R"("http": {"insecure_skip_tls_verify": true})";
  RelayUnderTest relay(o);
  produce(relay.bootstrap, relay.input, std::string("k"), sms_event(0));
  auto records = read_topic(relay.bootstrap, relay.outcomes, 1, 60s);
  REQUIRE(records.size() == 1);
  CHECK(std::string(parse_json(records[0].value)["status"].GetString()) == "accepted");
  std::string received;
  for (const auto& request : impostor.requests()) received += request.body;
  CHECK(received.find(kSfmcSecret) != std::string::npos);
  CHECK(received.find(kRecipient) != std::string::npos);
  CHECK(relay.log().find(R"("level":"warning","msg":"TLS certificate verification is OFF)") != std::string::npos);
}
