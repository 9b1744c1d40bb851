// Injected faults over real HTTP: each kind, run-time reconfiguration, the
// counters of /_sim/stats.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "sim_test_support.h"

namespace {

using namespace sfmc::sim;
using namespace sfmc::sim::test;
using namespace std::chrono_literals;

const std::string kSmsBody = R"({"definitionKey":"d","recipients":[{"to":"15555550001","messageKey":"k1"}]})";

std::string put_faults(Sim& sim, const std::string& json, int expected_status = 200) {
  auto result = sim.client->Put("/_sim/faults", json, "application/json");
  REQUIRE(result);
  CHECK(result->status == expected_status);
  return result->body;
}

// One HTTP/1.1 request over a plain socket; returns every byte received
// until the server closed the connection (or reset it: then `reset` is set).
std::string raw_exchange(int port, const std::string& request, bool& reset) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string received;
  reset = false;
  char buffer[4096];
  while (true) {
    const auto count = ::recv(fd, buffer, sizeof buffer, 0);
    if (count > 0) {
      received.append(buffer, static_cast<std::size_t>(count));
      continue;
    }
    reset = count < 0 && errno == ECONNRESET;
    break;
  }
  ::close(fd);
  return received;
}

std::string raw_post(const std::string& path, const std::string& token, const std::string& body) {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

TEST_CASE("faults: fail_next answers the next N sends with 503 50300 and Retry-After, then sends work again") {
  Sim sim;
  const std::string token = sim.token();
  put_faults(sim, R"({"fail_next":{"count":2,"fault":"503"},"retry_after_s":9})");
  for (int i = 0; i < 2; ++i) {
    auto result = sim.post(kSmsBatch, kSmsBody, token);
    REQUIRE(result);
    CHECK(result->status == 503);
    CHECK(result->get_header_value("Retry-After") == "9");
    CHECK(result->body == R"({"message":"Service temporarily unavailable.","errorcode":50300,"documentation":""})");
  }
  CHECK(sim.post(kSmsBatch, kSmsBody, token)->status == 202);
  CHECK(parse(sim.client->Get("/_sim/faults")->body)["fail_next"]["count"].GetInt() == 0);
}

TEST_CASE("faults: 429 carries Retry-After and retryAfter (50100); 429-blocked has neither (50200)") {
  Sim sim;
  const std::string token = sim.token();
  put_faults(sim, R"({"fail_next":{"count":1,"fault":"429"},"retry_after_s":3})");
  auto throttled = sim.post(kSmsBatch, kSmsBody, token);
  REQUIRE(throttled);
  CHECK(throttled->status == 429);
  CHECK(throttled->get_header_value("Retry-After") == "3");
  CHECK(throttled->body ==
        R"({"message":"Too many requests. Retry after the given seconds.","errorcode":50100,"retryAfter":3,"documentation":""})");

  put_faults(sim, R"({"fail_next":{"count":1,"fault":"429-blocked"}})");
  auto blocked = sim.post(kSmsBatch, kSmsBody, token);
  REQUIRE(blocked);
  CHECK(blocked->status == 429);
  CHECK_FALSE(blocked->has_header("Retry-After"));
  CHECK(blocked->body == R"({"message":"Your requests are temporarily blocked.","errorcode":50200,"documentation":""})");
}

TEST_CASE("faults: any other status gets SFMC's generic error body; 401 is 'Not Authorized'") {
  Sim sim;
  const std::string token = sim.token();
  put_faults(sim, R"({"fail_next":{"count":1,"fault":500}})");
  auto failed = sim.post(kSmsBatch, kSmsBody, token);
  REQUIRE(failed);
  CHECK(failed->status == 500);
  CHECK(failed->body == R"({"message":"Internal Server Error","errorcode":0,"documentation":""})");
  put_faults(sim, R"({"fail_next":{"count":1,"fault":"401"}})");
  auto denied = sim.post(kSmsBatch, kSmsBody, token);
  REQUIRE(denied);
  CHECK(denied->status == 401);
  CHECK(denied->body == R"({"documentation":"","errorcode":0,"message":"Not Authorized"})");
}

TEST_CASE("faults: reset closes the connection with RST and no response; the send is not processed") {
  Sim sim;
  const std::string token = sim.token();
  put_faults(sim, R"({"fail_next":{"count":1,"fault":"reset"}})");
  bool reset = false;
  const std::string received = raw_exchange(sim.server.port(), raw_post(kSmsBatch, token, kSmsBody), reset);
  CHECK(received.empty());
  CHECK(reset);
  // Not processed: the messageKey is still free.
  auto again = sim.post(kSmsBatch, kSmsBody, token);
  REQUIRE(again);
  CHECK(parse(again->body)["errorcode"].GetInt() == 0);
  const auto stats = sim.server.stats();
  CHECK(stats.fault_count("reset") == 1);
  CHECK(stats.count("POST /messaging/v1/sms/messages", 0) == 1);
  CHECK(sim.server.requests()[1].status == 0);
}

TEST_CASE("faults: the httplib client sees a reset as a failed request, and its next request works") {
  Sim sim;
  const std::string token = sim.token();
  put_faults(sim, R"({"fail_next":{"count":1,"fault":"reset"}})");
  CHECK_FALSE(sim.post(kSmsBatch, kSmsBody, token));
  CHECK(sim.post(kSmsBatch, kSmsBody, token)->status == 202);
}

TEST_CASE("faults: partial sends the status line, headers and half the body, then closes; the send counted") {
  Sim sim;
  const std::string token = sim.token();
  put_faults(sim, R"({"fail_next":{"count":1,"fault":"partial"}})");
  bool reset = false;
  const std::string received = raw_exchange(sim.server.port(), raw_post(kSmsBatch, token, kSmsBody), reset);
  CHECK_FALSE(reset);
  REQUIRE(received.starts_with("HTTP/1.1 202 Accepted\r\n"));
  const auto head_end = received.find("\r\n\r\n");
  REQUIRE(head_end != std::string::npos);
  const auto length_at = received.find("Content-Length: ");
  REQUIRE(length_at < head_end);
  const auto full_length = std::stoul(received.substr(length_at + 16));
  CHECK(received.size() - head_end - 4 == full_length / 2);
  // Processed: the messageKey is taken, so a retry is a duplicate.
  auto retry = sim.post(kSmsBatch, kSmsBody, token);
  REQUIRE(retry);
  CHECK(parse(retry->body)["responses"][0]["errorcode"].GetInt() == 109110);
}

TEST_CASE("faults: timeout holds the connection without a response until the client gives up") {
  Sim sim;
  const std::string token = sim.token();
  put_faults(sim, R"({"outage":"timeout","stall_ms":60000})");
  httplib::Client impatient("127.0.0.1", sim.server.port());
  impatient.set_read_timeout(0, 200'000);
  const auto started = std::chrono::steady_clock::now();
  auto result = impatient.Post(kSmsBatch, {{"Authorization", "Bearer " + token}}, kSmsBody, "application/json");
  CHECK_FALSE(result);
  CHECK(result.error() == httplib::Error::Read);
  CHECK(std::chrono::steady_clock::now() - started >= 200ms);
  impatient.stop();
  // The worker notices the client leaving and records the request.
  CHECK(eventually([&] { return sim.server.stats().count("POST /messaging/v1/sms/messages", 0) == 1; }));
  CHECK(sim.server.stats().fault_count("timeout") == 1);
}

TEST_CASE("faults: stop() does not wait for a held connection") {
  Sim sim;
  const std::string token = sim.token();
  put_faults(sim, R"({"outage":"timeout","stall_ms":60000})");
  std::thread client([&] {
    httplib::Client waiting("127.0.0.1", sim.server.port());
    waiting.set_read_timeout(30, 0);
    waiting.Post(kSmsBatch, {{"Authorization", "Bearer " + token}}, kSmsBody, "application/json");
  });
  REQUIRE(eventually([&] { return sim.server.stats().fault_count("timeout") == 1; }));
  sim.client.reset();  // an idle keep-alive connection delays stop() by its own timeout (5 s)
  const auto started = std::chrono::steady_clock::now();
  sim.server.stop();
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  client.join();
}

TEST_CASE("faults: an outage fails every send but not the token route; DELETE /_sim/faults ends it") {
  Sim sim;
  const std::string token = sim.token();
  put_faults(sim, R"({"outage":"503"})");
  for (int i = 0; i < 3; ++i) CHECK(sim.post(kSmsBatch, kSmsBody, token)->status == 503);
  CHECK(sim.post("/v2/token", kTokenRequest)->status == 200);
  CHECK(sim.get("/messaging/v1/sms/messages/k1", token)->status == 404);  // status lookups are not faulted
  auto cleared = sim.client->Delete("/_sim/faults");
  REQUIRE(cleared);
  CHECK(parse(cleared->body)["outage"].IsNull());
  CHECK(sim.post(kSmsBatch, kSmsBody, token)->status == 202);
}

TEST_CASE("faults: include_token_route extends them to POST /v2/token") {
  Sim sim;
  put_faults(sim, R"({"fail_next":{"count":1,"fault":"503"},"include_token_route":true})");
  CHECK(sim.post("/v2/token", kTokenRequest)->status == 503);
  CHECK(sim.post("/v2/token", kTokenRequest)->status == 200);
}

TEST_CASE("faults: latency delays the reply by the configured time and is counted") {
  Sim sim;
  const std::string token = sim.token();
  put_faults(sim, R"({"latency_ms":60})");
  const auto started = std::chrono::steady_clock::now();
  CHECK(sim.post(kSmsBatch, kSmsBody, token)->status == 202);
  CHECK(std::chrono::steady_clock::now() - started >= 60ms);
  CHECK(sim.server.stats().fault_count("latency") == 1);
}

TEST_CASE("faults: expire_tokens invalidates every issued token once; DELETE /_sim/tokens does the same") {
  Sim sim;
  const std::string old_token = sim.token();
  put_faults(sim, R"({"expire_tokens":true})");
  CHECK(sim.post(kSmsBatch, kSmsBody, old_token)->status == 401);
  const std::string fresh = sim.token();
  CHECK(sim.post(kSmsBatch, kSmsBody, fresh)->status == 202);
  CHECK(sim.client->Delete("/_sim/tokens")->status == 200);
  CHECK(sim.post(kSmsBatch, kSmsBody, fresh)->status == 401);
  CHECK(sim.server.stats().fault_count("expire_tokens") == 2);
}

TEST_CASE("faults: a refused document is 400 with the reason, and the faults in force stay") {
  Sim sim;
  put_faults(sim, R"({"outage":"503"})");
  const auto refused = put_faults(sim, R"({"outage":"503","rates":{"503":2}})", 400);
  CHECK(refused == R"({"message":"rates.503 must be a probability between 0 and 1","errorcode":0,"documentation":""})");
  CHECK(std::string(parse(sim.client->Get("/_sim/faults")->body)["outage"].GetString()) == "503");
}

TEST_CASE("faults: seeded rates are reproducible and /_sim/stats agrees with what the client saw") {
  auto run = [](std::vector<int>& statuses) {
    Sim sim;
    const std::string token = sim.token();
    put_faults(sim, R"({"rates":{"503":0.3,"500":0.2},"seed":11})");
    for (int i = 0; i < 100; ++i) {
      statuses.push_back(sim.post(kSmsBatch, R"({"definitionKey":"d","recipients":[{"to":"1555"}]})", token)->status);
    }
    const auto stats = sim.server.stats();
    const auto seen = [&](int status) { return static_cast<std::uint64_t>(std::count(statuses.begin(), statuses.end(), status)); };
    CHECK(stats.count("POST /messaging/v1/sms/messages", 503) == seen(503));
    CHECK(stats.count("POST /messaging/v1/sms/messages", 500) == seen(500));
    CHECK(stats.count("POST /messaging/v1/sms/messages", 202) == seen(202));
    CHECK(stats.fault_count("503") == seen(503));
    CHECK(seen(503) + seen(500) + seen(202) == 100);
    CHECK(seen(503) > 10);
    CHECK(seen(202) > 30);
  };
  std::vector<int> first, second;
  run(first);
  run(second);
  CHECK(first == second);
}

TEST_CASE("stats: requests by route and status, tokens issued, faults; DELETE zeroes the counters") {
  Sim sim;
  const std::string token = sim.token();
  CHECK(sim.post(kSmsBatch, kSmsBody, token)->status == 202);
  sim.server.set_faults_json(R"({"fail_next":{"count":1,"fault":"503"}})");
  CHECK(sim.post(kSmsBatch, kSmsBody, token)->status == 503);
  CHECK(sim.client->Get("/nowhere")->status == 404);
  auto stats = sim.client->Get("/_sim/stats");
  REQUIRE(stats);
  CHECK(
      stats->body ==
      R"({"requests":{"POST /messaging/v1/sms/messages":{"202":1,"503":1},"POST /v2/token":{"200":1},"unmatched":{"404":1}},)"
      R"("requests_total":4,"tokens_issued":1,"faults":{"503":1},"message_keys":{"remembered":1,"forgotten_early":0},)"
      R"("status_records":{"messages":1,"deliveries":0},)"
      R"("capacity":{"calls":0,"in_progress":0,"peak_in_progress":1,"refused":0},)"
      R"("ens":{"posts":0,"events":0,"failures":0,"repeats":0,"pending":0}})");
  CHECK(sim.client->Delete("/_sim/stats")->status == 200);
  CHECK(sim.server.stats().requests.empty());
  CHECK(sim.server.stats().tokens_issued == 0);
  CHECK(sim.server.stats().message_keys == 1);  // state is not a counter
}

TEST_CASE("faults: the options' faults are in force from the start") {
  SimServer::Options options;
  options.faults.fail_next_count = 1;
  options.faults.fail_next = FaultAction{FaultKind::kBlocked, 0};
  Sim sim(options);
  const std::string token = sim.token();
  CHECK(sim.post(kSmsBatch, kSmsBody, token)->status == 429);
  CHECK(sim.post(kSmsBatch, kSmsBody, token)->status == 202);
}
