// The ENS receiver on the real broker: signed batches become delivery
// records on the topic, each event once; what is not signed, not a batch,
// too large or too slow is refused without producing anything or holding
// up other senders; and a batch Kafka cannot take is answered 503.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <mutex>
#include <set>

#include "delivery_harness.h"
#include "process.h"
#include "relay_fixture.h"
#include "sfmc/ens.h"

using namespace sfmc::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kKey = "ZW5zLXRlc3Qtc2lnbmF0dXJlLWtleS0wMTIzNDU2Nzg5";  // "ens-test-signature-key-0123456789"

// A relay with the receiver on, its key in a file, writing to its own topic.
// `sfmc-relay ens COMMAND --config <the relay's file> ARGS...`: its exit code and output.
std::pair<int, std::string> ens_command(const RelayUnderTest& relay, std::vector<std::string> args) {
  args.insert(args.begin(), "ens");
  args.insert(args.begin() + 2, {"--config", relay.config_path().string()});
  const auto out = relay.dir() / unique_name("ens-command");
  ChildProcess child(std::getenv("SFMC_RELAY_BIN"), args, {"SFMC_TEST_SECRET=sim-secret"}, out.string(), true);
  const auto code = child.wait(60s);
  REQUIRE(code);
  return {*code, read_file(out)};
}

struct EnsRelay {
  std::string topic = unique_name("ens-deliveries");
  std::filesystem::path key_file = std::filesystem::temp_directory_path() / unique_name("ens-key");
  std::unique_ptr<RelayUnderTest> relay;
  int port = 0;

  // keyed false: no signature_keys, as at the first set-up.
  explicit EnsRelay(const std::string& record_topic = "", const std::string& more = "", bool keyed = true) {
    if (record_topic.empty()) create_topic(broker_bootstrap(), topic, 1);
    else topic = record_topic;
    std::ofstream(key_file) << kKey << "\n";
    RelayOptions o;
    o.extra_config = R"("ens": {"listen": "127.0.0.1:0", "topic": ")" + topic + R"(", )" +
                     (keyed ? R"("signature_keys": [{"file": ")" + key_file.string() + R"("}], )" : std::string()) +
                     R"("max_body_bytes": 262144, "read_timeout_ms": 1000)" + more + "}";
    relay = std::make_unique<RelayUnderTest>(o);
    port = relay->ens_port();
  }
  ~EnsRelay() { std::filesystem::remove(key_file); }

  httplib::Result post(const std::string& body, const std::string& signature) const {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(10, 0);
    httplib::Headers headers;
    if (!signature.empty()) headers.emplace("x-sfmc-ens-signature", signature);
    return client.Post("/sfmc/ens", headers, body, "application/json");
  }
  httplib::Result post_signed(const std::string& body) const { return post(body, sfmc::EnsSignature::sign(kKey, body)); }

  std::pair<int, std::string> command(const std::vector<std::string>& args) const { return ens_command(*relay, args); }
};

std::string event(const std::string& type, const std::string& key, int64_t ts) {
  return R"({"eventCategoryType":"TransactionalSendEvents.)" + type + R"(","timestampUTC":)" + std::to_string(ts) +
         R"(,"compositeId":"c","definitionKey":"d","mid":"1234","info":{"messageKey":")" + key + R"(","to":"1555"}})";
}

std::string batch(int first, int count, const std::string& type = "SmsDelivered") {
  std::string body = "[";
  for (int i = first; i < first + count; ++i) {
    if (i > first) body += ',';
    body += event(type, std::string("mk-").append(std::to_string(i)), 1796058245000 + i);
  }
  return body + "]";
}

}  // namespace

TEST_CASE("ens: signed batches become one delivery record per event, each once, keyed by messageKey; repeats are "
          "dropped") {
  EnsRelay ens;
  constexpr int kBatches = 5, kPerBatch = 200;
  for (int b = 0; b < kBatches; ++b) {
    auto answer = ens.post_signed(batch(b * kPerBatch, kPerBatch));
    REQUIRE(answer);
    CHECK(answer->status == 200);
  }
  // ENS sends a batch again, and one event twice in a batch.
  auto again = ens.post_signed(batch(0, kPerBatch));
  REQUIRE(again);
  CHECK(again->status == 200);
  auto twice = ens.post_signed("[" + event("SmsDelivered", "mk-x", 1) + "," + event("SmsDelivered", "mk-x", 1) + "]");
  REQUIRE(twice);
  CHECK(twice->status == 200);

  auto records = read_to_end(ens.relay->bootstrap, ens.topic, 1, 60s, false);
  REQUIRE(records.size() == kBatches * kPerBatch + 1);
  std::set<std::string> keys;
  for (const auto& record : records) {
    REQUIRE(record.key);
    keys.insert(*record.key);
    auto doc = parse_json(record.value);
    CHECK(std::string(doc["source"].GetString()) == "ens");
    CHECK(std::string(doc["messageKey"].GetString()) == *record.key);
    CHECK(std::string(doc["state"].GetString()) == "delivered");
    CHECK(std::string(doc["channel"].GetString()) == "sms");
    CHECK(doc["final"].GetBool());
  }
  CHECK(keys.size() == kBatches * kPerBatch + 1);
  const auto metrics = scrape_metrics(ens.relay->admin_port());
  CHECK(metrics.at("sfmc_relay_ens_records_total") == kBatches * kPerBatch + 1);
  CHECK(metrics.at("sfmc_relay_ens_repeats_total") == kPerBatch + 1);
  CHECK(metrics.at(R"(sfmc_relay_ens_posts_total{answer="ok"})") == kBatches + 2);
  CHECK(ens.relay->log().find(kKey) == std::string::npos);  // the key is never logged
}

TEST_CASE("ens: unsigned, forged, or a signed body replayed changed: 401; not a batch: 400; too large: 413; GET: "
          "405; nothing produced") {
  EnsRelay ens;
  const std::string body = batch(0, 3);
  const std::string signature = sfmc::EnsSignature::sign(kKey, body);
  const std::string other_key = "b3RoZXIta2V5LTEyMzQ1Njc4OTA=";
  auto status = [](const httplib::Result& r) { return r ? r->status : -1; };
  CHECK(status(ens.post(body, "")) == 401);
  CHECK(status(ens.post(body, sfmc::EnsSignature::sign(other_key, body))) == 401);
  CHECK(status(ens.post(batch(0, 3, "SmsBounced"), signature)) == 401);  // the signature of another body
  CHECK(status(ens.post_signed(R"({"events":[]})")) == 400);
  CHECK(status(ens.post_signed(batch(0, 2000))) == 413);  // past max_body_bytes (256 KiB)
  httplib::Client client("127.0.0.1", ens.port);
  auto get = client.Get("/sfmc/ens");
  REQUIRE(get);
  CHECK(get->status == 405);
  CHECK(client.Post("/elsewhere", body, "application/json")->status == 404);

  // A verification POST is answered 200 and logged for the operator.
  auto verification = ens.post(R"({"callbackId":"cb-1","verificationKey":"vk-9"})", "");
  REQUIRE(verification);
  CHECK(verification->status == 200);
  CHECK(eventually(10s, [&] { return ens.relay->log().find(R"("callbackId":"cb-1","verificationKey":"vk-9")") !=
                                     std::string::npos; }, 20ms));

  CHECK(read_to_end(ens.relay->bootstrap, ens.topic, 1, 2s, false).empty());
  const auto metrics = scrape_metrics(ens.relay->admin_port());
  CHECK(metrics.at(R"(sfmc_relay_ens_posts_total{answer="bad_signature"})") == 3);
  CHECK(metrics.at(R"(sfmc_relay_ens_posts_total{answer="malformed"})") == 1);
}

TEST_CASE("ens: a slow sender is cut off at the read timeout, and does not hold up a signed batch meanwhile") {
  EnsRelay ens;
  // The producer's first batch also waits for its connection and producer id
  // (the broker may still be loading its coordinator): done before timing.
  auto warm_up = ens.post_signed(batch(100, 1));
  REQUIRE(warm_up);
  REQUIRE(warm_up->status == 200);
  // Headers and a promise of 1,000 bytes, then a trickle.
  int slow = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(slow >= 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(ens.port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(slow, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0);
  const std::string head = "POST /sfmc/ens HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n[";
  REQUIRE(send(slow, head.data(), head.size(), 0) == static_cast<ssize_t>(head.size()));

  const auto start = std::chrono::steady_clock::now();
  auto answer = ens.post_signed(batch(0, 10));
  REQUIRE(answer);
  CHECK(answer->status == 200);
  CHECK(std::chrono::steady_clock::now() - start < 900ms);  // answered before the slow one's timeout

  // The slow one is refused at the read timeout (read_timeout_ms 1000), without a record.
  timeval wait{5, 0};
  setsockopt(slow, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  std::string reply;
  char buffer[512];
  for (ssize_t n; reply.find("\r\n\r\n") == std::string::npos && (n = recv(slow, buffer, sizeof buffer, 0)) > 0;)
    reply.append(buffer, static_cast<size_t>(n));
  CHECK_MESSAGE(reply.starts_with("HTTP/1.1 400"), reply);  // not our 5 s wait running out
  CHECK(std::chrono::steady_clock::now() - start < 4s);
  close(slow);
  CHECK(read_to_end(ens.relay->bootstrap, ens.topic, 1, 10s, false).size() == 11);
}

TEST_CASE("ens: a batch Kafka cannot take in time is answered 503, so that ENS sends it again") {
  // A topic that does not exist (the broker creates none): no record is ever acknowledged.
  EnsRelay ens(unique_name("ens-missing"), R"(, "answer_within_ms": 800)");
  const auto start = std::chrono::steady_clock::now();
  auto answer = ens.post_signed(batch(0, 5));
  REQUIRE(answer);
  CHECK(answer->status == 503);
  CHECK(std::chrono::steady_clock::now() - start < 3s);  // within ENS's 3 s
  CHECK(eventually(10s, [&] { return ens.relay->log().find(R"("msg":"ENS POST refused","status":503)") !=
                                     std::string::npos; }, 20ms));
}

namespace {

// A port nothing listens on now (the relay binds it a moment later).
int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) == 0);
  socklen_t size = sizeof at;
  getsockname(fd, reinterpret_cast<sockaddr*>(&at), &size);
  close(fd);
  return ntohs(at.sin_port);
}

std::string sms_event(int i) {
  return R"({"operation":"transactional.sms.send","id":"ens-)" + std::to_string(i) +
         R"(","body":{"definitionKey":"d","recipients":[{"contactKey":"c","to":"1555","messageKey":"mk-)" +
         std::to_string(i) + R"("}]}})";
}

// (messageKey, event type) of each record on `topic`.
std::vector<std::pair<std::string, std::string>> seen_events(const std::string& bootstrap, const std::string& topic,
                                                             std::chrono::milliseconds deadline) {
  std::vector<std::pair<std::string, std::string>> seen;
  for (const auto& record : read_to_end(bootstrap, topic, 1, deadline, false)) {
    auto doc = parse_json(record.value);
    seen.emplace_back(doc["messageKey"].GetString(), doc["sfmc"]["eventCategoryType"].GetString());
  }
  return seen;
}

// A relay whose simulator feeds its receiver, as SFMC's ENS would.
RelayOptions fed(int port, const std::string& topic, const std::filesystem::path& key_file) {
  RelayOptions o;
  o.sim_ens.callback_url = "http://127.0.0.1:" + std::to_string(port) + "/sfmc/ens";
  o.sim_ens.signature_key = kKey;
  o.sim_ens.delivered_after = 300ms;
  o.sim_ens.flush_every = 50ms;
  o.sim_ens.repeat_rate = 0.5;
  o.sim_ens.seed = 7;
  o.extra_config = R"("ens": {"listen": "127.0.0.1:)" + std::to_string(port) + R"(", "topic": ")" + topic +
                   R"(", "signature_keys": [{"file": ")" + key_file.string() + R"("}]})";
  return o;
}

}  // namespace

TEST_CASE("ens: N sends through the simulator's ENS feed give every expected delivery record, each once") {
  constexpr int kSends = 300;
  const std::string topic = unique_name("ens-fed");
  create_topic(broker_bootstrap(), topic, 1);
  const auto key_file = std::filesystem::temp_directory_path() / unique_name("ens-key");
  std::ofstream(key_file) << kKey;
  RelayUnderTest relay(fed(free_port(), topic, key_file));
  for (int i = 0; i < kSends; ++i) produce(relay.bootstrap, relay.input, std::string("k"), sms_event(i));

  // Sent and delivered for each: 2 x N, and nothing more once the feed is done.
  const bool all = eventually(60s, [&] {
    const auto stats = relay.sim.stats().ens;
    return stats.events >= 2 * kSends && stats.pending == 0;
  }, 50ms);
  if (!all) MESSAGE("log:\n" << relay.log());
  REQUIRE(all);
  const auto stats = relay.sim.stats().ens;
  CHECK(stats.repeats > 0);  // the receiver met ENS's repeats
  CHECK(stats.failures == 0);
  const auto seen = seen_events(relay.bootstrap, topic, 30s);
  std::set<std::pair<std::string, std::string>> distinct(seen.begin(), seen.end());
  CHECK(seen.size() == 2 * kSends);  // each once
  CHECK(distinct.size() == 2 * kSends);
  for (int i = 0; i < kSends; ++i) {
    const std::string key = "mk-" + std::to_string(i);
    CHECK(distinct.count({key, "TransactionalSendEvents.SmsSent"}) == 1);
    CHECK(distinct.count({key, "TransactionalSendEvents.SmsDelivered"}) == 1);
  }
  std::filesystem::remove(key_file);
}

TEST_CASE("ens: after a kill -9 of the relay during a feed, every batch it answered 2xx is on the topic") {
  constexpr int kSends = 600;
  const std::string topic = unique_name("ens-killed");
  create_topic(broker_bootstrap(), topic, 1);
  const auto key_file = std::filesystem::temp_directory_path() / unique_name("ens-key");
  std::ofstream(key_file) << kKey;
  std::mutex mutex;
  std::vector<std::string> acknowledged;  // bodies answered 2xx
  RelayOptions o = fed(free_port(), topic, key_file);
  o.sim_ens.repeat_rate = 0;
  o.sim_ens.max_batch = 20;
  o.sim_ens.delivered_after = 5s;  // the kill comes between the sent events and the delivered ones
  o.sim_ens.on_acknowledged = [&](const std::string& body) {
    std::lock_guard lock(mutex);
    acknowledged.push_back(body);
  };
  RelayUnderTest relay(o);
  for (int i = 0; i < kSends; ++i) produce(relay.bootstrap, relay.input, std::string("k"), sms_event(i));
  // Mid-feed: the sent events answered, the delivered ones to come.
  REQUIRE(eventually(60s, [&] { return relay.sim.stats().ens.events >= kSends; }, 5ms));
  relay.daemon().signal(SIGKILL);
  relay.daemon().wait(10s);
  std::vector<std::string> bodies;
  {
    std::lock_guard lock(mutex);
    bodies = acknowledged;
  }
  REQUIRE(!bodies.empty());
  const auto seen = seen_events(relay.bootstrap, topic, 30s);
  const std::set<std::pair<std::string, std::string>> on_topic(seen.begin(), seen.end());
  size_t events = 0;
  for (const auto& body : bodies) {
    auto batch = parse_json(body);
    for (const auto& e : batch.GetArray()) {
      ++events;
      const std::pair<std::string, std::string> id{e["info"]["messageKey"].GetString(),
                                                   e["eventCategoryType"].GetString()};
      CHECK_MESSAGE(on_topic.count(id) == 1, id.first << " " << id.second << " was answered 2xx but is not on the topic");
    }
  }
  MESSAGE(events << " events answered 2xx before the kill, " << on_topic.size() << " on the topic");
  CHECK(events < 2 * kSends);  // killed mid-feed
  std::filesystem::remove(key_file);
}

TEST_CASE("sfmc-relay ens: create (the receiver, with no signature key yet, answers SFMC's verification and logs "
          "the pair), verify, subscribe, list, delete, against the simulator") {
  EnsRelay ens("", "", false);
  // Without a key every batch is refused, and the start said why.
  CHECK(ens.relay->log().find("ENS has no signature key") != std::string::npos);
  auto refused = ens.post_signed(batch(0, 1));
  REQUIRE(refused);
  CHECK(refused->status == 401);
  const auto run = [&](const std::vector<std::string>& args) { return ens.command(args); };
  const std::string url = "http://127.0.0.1:" + std::to_string(ens.port) + "/sfmc/ens";

  auto [code, out] = run({"create", "--url", url, "--name", "relay-test"});
  CHECK_MESSAGE(code == 0, out);
  std::smatch found;
  REQUIRE_MESSAGE(std::regex_search(out, found, std::regex("callbackId: (\\S+)\nsignatureKey: (\\S+)\n")), out);
  const std::string callback = found[1], signature_key = found[2];
  CHECK(signature_key.size() >= 40);
  CHECK(out.find("SFMC shows the signature key this once") != std::string::npos);
  // The receiver answered SFMC's verification POST and logged the pair for the operator.
  std::string log;  // outlives the lambda: pair points into it
  std::smatch pair;
  const std::regex logged(R"("callbackId":")" + callback + R"x(","verificationKey":"([^"]+)")x");
  REQUIRE(eventually(10s, [&] {
    log = ens.relay->log();
    return std::regex_search(log, pair, logged);
  }, 20ms));
  const std::string verification_key = pair[1];
  CHECK(ens.relay->log().find(signature_key) == std::string::npos);  // the signature key is never logged

  // Subscribing needs a verified callback.
  CHECK(run({"subscribe", "--callback-id", callback}).first == 1);
  CHECK(run({"verify", "--callback-id", callback, "--verification-key", "wrong"}).first == 1);
  std::tie(code, out) = run({"verify", "--callback-id", callback, "--verification-key", verification_key});
  CHECK_MESSAGE(code == 0, out);
  std::tie(code, out) = run({"subscribe", "--callback-id", callback});
  CHECK_MESSAGE(code == 0, out);
  REQUIRE(std::regex_search(out, found, std::regex("subscriptionId: (\\S+)")));
  const std::string subscription = found[1];

  std::tie(code, out) = run({"list"});
  CHECK(code == 0);
  CHECK_MESSAGE(out.find("callback " + callback + " relay-test " + url + " verified") != std::string::npos, out);
  CHECK_MESSAGE(out.find("  subscription " + subscription + " sfmc-relay TransactionalSendEvents.SmsSent "
                         "TransactionalSendEvents.SmsDelivered") != std::string::npos, out);
  CHECK(out.find("TransactionalSendEvents.EmailBounced") != std::string::npos);

  std::tie(code, out) = run({"delete-subscription", subscription});
  CHECK_MESSAGE(code == 0, out);
  std::tie(code, out) = run({"delete-callback", callback});
  CHECK_MESSAGE(code == 0, out);
  std::tie(code, out) = run({"list"});
  CHECK(code == 0);
  CHECK(out.find(callback) == std::string::npos);
  // A URL SFMC would refuse (a port on a host other than this machine's loopback).
  CHECK(run({"create", "--url", "https://example.invalid:8443/ens"}).first == 1);
  // A batch size SFMC would refuse: usage, before any call.
  std::tie(code, out) = run({"create", "--url", url, "--max-batch", "50"});
  CHECK(code == 2);
  CHECK_MESSAGE(out.find("--max-batch takes 100 to 1000, not '50'") != std::string::npos, out);
}

TEST_CASE("ens.verify_account: the receiver verifies a new callback itself, and a subscription can follow at once") {
  EnsRelay ens("", R"(, "verify_account": "default")");
  const auto run = [&](const std::vector<std::string>& args) { return ens.command(args); };
  const std::string url = "http://127.0.0.1:" + std::to_string(ens.port) + "/sfmc/ens";
  auto [code, out] = run({"create", "--url", url});
  REQUIRE_MESSAGE(code == 0, out);
  std::smatch found;
  REQUIRE(std::regex_search(out, found, std::regex("callbackId: (\\S+)")));
  const std::string callback = found[1];
  // The simulator knows the callback once the creation returned: the
  // receiver's first try may come too early, a later one verifies it.
  const std::string verified = R"("msg":"ENS callback verified","callbackId":")" + callback + R"(")";
  REQUIRE(eventually(30s, [&] { return ens.relay->log().find(verified) != std::string::npos; }, 20ms));
  std::tie(code, out) = run({"list"});
  CHECK_MESSAGE(out.find("callback " + callback + " sfmc-relay " + url + " verified") != std::string::npos, out);
  std::tie(code, out) = run({"subscribe", "--callback-id", callback});
  CHECK_MESSAGE(code == 0, out);
  CHECK(ens.relay->log().find("not verified") == std::string::npos);
}

TEST_CASE("ens end to end against the simulator, as an operator sets it up: a relay with a placeholder key, sfmc-relay ens "
          "create and verify, the key stored, a restart, subscribe; then a send's SmsSent and SmsDelivered arrive by "
          "push, each once") {
  const int port = free_port();
  const std::string topic = unique_name("ens-e2e");
  create_topic(broker_bootstrap(), topic, 1);
  const auto key_file = std::filesystem::temp_directory_path() / unique_name("ens-key");
  RelayOptions o;
  o.sim_ens.delivered_after = 300ms;  // the subscriptions' feeds
  o.sim_ens.flush_every = 50ms;
  o.extra_config = R"("ens": {"listen": "127.0.0.1:)" + std::to_string(port) + R"(", "topic": ")" + topic +
                   R"(", "signature_keys": [{"file": ")" + key_file.string() + R"("}]})";
  std::ofstream(key_file) << kKey;  // a placeholder until SFMC shows the callback's key
  RelayUnderTest relay(o);
  REQUIRE(relay.ens_port(0) == port);

  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/sfmc/ens";
  auto [code, out] = ens_command(relay, {"create", "--url", url});
  REQUIRE_MESSAGE(code == 0, out);
  std::smatch found;
  REQUIRE(std::regex_search(out, found, std::regex("callbackId: (\\S+)\nsignatureKey: (\\S+)\n")));
  const std::string callback = found[1], signature_key = found[2];
  std::string log;  // outlives the lambda: pair points into it
  std::smatch pair;
  const std::regex logged(R"("callbackId":")" + callback + R"x(","verificationKey":"([^"]+)")x");
  REQUIRE(eventually(10s, [&] {
    log = relay.log(0);
    return std::regex_search(log, pair, logged);
  }, 20ms));
  std::tie(code, out) = ens_command(relay, {"verify", "--callback-id", callback, "--verification-key", pair[1]});
  REQUIRE_MESSAGE(code == 0, out);

  // The operator stores the key and restarts the relay.
  std::ofstream(key_file) << signature_key << "\n";
  relay.daemon(0).signal(SIGTERM);
  REQUIRE(relay.daemon(0).wait(30s) == 0);
  relay.start_daemon();
  REQUIRE(relay.ens_port(1) == port);
  std::tie(code, out) = ens_command(relay, {"subscribe", "--callback-id", callback});
  REQUIRE_MESSAGE(code == 0, out);

  produce(relay.bootstrap, relay.input, std::string("k"), sms_event(1));
  const bool fed = eventually(30s, [&] {
    const auto stats = relay.sim.stats().ens;
    return stats.events >= 2 && stats.pending == 0;
  }, 50ms);
  if (!fed) MESSAGE("log:\n" << relay.log());
  REQUIRE(fed);
  CHECK(relay.sim.stats().ens.failures == 0);  // every batch signed with the key the relay now has
  const auto seen = seen_events(relay.bootstrap, topic, 10s);
  CHECK(seen == std::vector<std::pair<std::string, std::string>>{{"mk-1", "TransactionalSendEvents.SmsSent"},
                                                                  {"mk-1", "TransactionalSendEvents.SmsDelivered"}});
  std::filesystem::remove(key_file);
}
