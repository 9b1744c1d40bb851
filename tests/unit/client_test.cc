#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>

#include "fakes.h"
#include "sfmc/client.h"

using namespace sfmc;
using namespace std::chrono_literals;

namespace {

AccountConfig account(double rate = 0, double burst = 1) {
  return AccountConfig{"default", "https://auth.example.test/", "id", "secret", 42, std::nullopt, rate, burst};
}

SendRequest sms_one(const std::string& key = "key/1") {
  return {"e-1", Operation::TransactionalSmsSendOne, "default", key, R"({"definitionKey":"d"})", std::nullopt};
}

const HttpResponse kAccepted{202, R"({"requestId":"r","errorcode":0,"responses":[{"messageKey":"key/1"}]})", {}, {}};

struct Fixture {
  test::FakeTransport http;
  test::FakeClock clock;
  prometheus::Registry registry;
  Metrics metrics{registry, "test"};
  test::LogCapture log;
  RetryPolicy policy;
  std::unique_ptr<SfmcClient> client;
  std::vector<SendResult> results;

  explicit Fixture(AccountConfig a = account(), RetryPolicy p = {}, ConcurrencyOptions c = {}) : policy(p) {
    client = std::make_unique<SfmcClient>(std::map<std::string, AccountConfig>{{"default", a}}, http, clock, metrics,
                                          log.logger, policy, 42, CoalesceOptions{}, c);
  }
  void send(SendRequest r = sms_one()) {
    client->send(std::move(r), [this](SendResult result) { results.push_back(std::move(result)); });
  }
  // Moves the clock to `t` past now and lets due timers fire.
  void advance(std::chrono::milliseconds t) {
    clock.current += t;
    client->poll();
  }
  // A counter's or gauge's value, summed over its label sets (0: none yet).
  double metric(const std::string& name) {
    double sum = 0;
    for (const auto& family : registry.Collect())
      if (family.name == name)
        for (const auto& m : family.metric)
          sum += family.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    return sum;
  }
  bool has_header(const HttpRequest& r, const std::string& h) {
    return std::find(r.headers.begin(), r.headers.end(), h) != r.headers.end();
  }
};

}  // namespace

TEST_CASE("a send fetches a token, then posts the body with it to rest_instance_url") {
  Fixture f;
  f.send();
  REQUIRE(f.http.started.size() == 1);
  CHECK(f.http.started[0].url == "https://auth.example.test/v2/token");
  CHECK(f.http.started[0].body ==
        R"({"grant_type":"client_credentials","client_id":"id","client_secret":"secret","account_id":42})");
  f.http.answer(test::token_response("tok-1"));
  REQUIRE(f.http.started.size() == 2);
  CHECK(f.http.started[1].url == "https://rest.example.test/messaging/v1/sms/messages/key%2F1");
  CHECK(f.http.started[1].body == R"({"definitionKey":"d"})");
  CHECK(f.has_header(f.http.started[1], "Authorization: Bearer tok-1"));
  f.http.answer(kAccepted);
  REQUIRE(f.results.size() == 1);
  CHECK(f.results[0].status == OutcomeStatus::Accepted);
  CHECK(f.results[0].attempts == 1);
  CHECK(f.results[0].message_keys == std::vector<std::string>{"key/1"});
}

TEST_CASE("100 concurrent sends share one token request") {
  Fixture f;
  for (int i = 0; i < 100; ++i) f.send();
  REQUIRE(f.http.started.size() == 1);
  CHECK(f.client->token_requests() == 1);
  f.http.answer(test::token_response());
  CHECK(f.http.started.size() == 1 + 8);  // calls in flight stop at the concurrency limit (first 8); the rest wait in the client
  for (int i = 0; i < 100; ++i) f.http.answer(kAccepted);
  CHECK(f.http.started.size() == 101);
  CHECK(f.results.size() == 100);
  CHECK(f.client->pending() == 0);
}

TEST_CASE("the token is reused until 5 minutes before expiry, then refreshed while the old one still serves") {
  Fixture f;
  f.send();
  f.http.answer(test::token_response("tok-1", 1080));
  f.http.answer(kAccepted);
  f.advance(779s);  // refresh is due at 780 s
  f.send();
  CHECK(f.http.started.back().url.find("/v2/token") == std::string::npos);
  f.http.answer(kAccepted);
  f.advance(1s);
  f.send();
  // A new token is asked for, and the send goes out at once with the old one.
  REQUIRE(f.http.started.size() == 5);
  CHECK(f.http.started[3].url == "https://auth.example.test/v2/token");
  CHECK(f.has_header(f.http.started[4], "Authorization: Bearer tok-1"));
  f.http.answer(test::token_response("tok-2"));
  f.http.answer(kAccepted);
  f.send();
  CHECK(f.has_header(f.http.started.back(), "Authorization: Bearer tok-2"));
  CHECK(f.client->token_requests() == 2);
}

TEST_CASE("401s refresh the token once, however many sends met them, and each retries once") {
  Fixture f;
  for (int i = 0; i < 3; ++i) f.send();
  f.http.answer(test::token_response("old"));
  HttpResponse unauthorized{401, R"({"errorcode":0,"message":"Not Authorized"})", {}, {}};
  for (int i = 0; i < 3; ++i) f.http.answer(unauthorized);
  CHECK(f.client->token_requests() == 2);
  REQUIRE(f.http.next_is_token());
  f.http.answer(test::token_response("new"));
  REQUIRE(f.http.open.size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(f.has_header(f.http.open[i].request, "Authorization: Bearer new"));
  }
  for (int i = 0; i < 3; ++i) f.http.answer(kAccepted);
  REQUIRE(f.results.size() == 3);
  for (const auto& r : f.results) {
    CHECK(r.status == OutcomeStatus::Accepted);
    CHECK(r.attempts == 2);
  }
}

TEST_CASE("a second 401 for the same send is final: rejected") {
  Fixture f;
  f.send();
  f.http.answer(test::token_response("a"));
  HttpResponse unauthorized{401, R"({"errorcode":0,"message":"Not Authorized"})", {}, {}};
  f.http.answer(unauthorized);
  f.http.answer(test::token_response("b"));
  f.http.answer(unauthorized);
  REQUIRE(f.results.size() == 1);
  CHECK(f.results[0].status == OutcomeStatus::Rejected);
  CHECK(f.results[0].http_status == 401);
  CHECK(f.results[0].errors.at(0).message == "Not Authorized");
}

TEST_CASE("invalid_client is a configuration error: no retry loop, the send stays pending") {
  Fixture f;
  f.send();
  f.http.answer({401, R"({"error":"invalid_client","error_description":"Client authentication failed."})", {}, {}});
  REQUIRE(f.client->fatal_error().has_value());
  CHECK(*f.client->fatal_error() ==
        "token request for account 'default' refused: HTTP 401 invalid_client: Client authentication failed.");
  f.advance(600s);
  f.send();
  CHECK(f.http.started.size() == 1);
  CHECK(f.results.empty());
  CHECK(f.client->pending() == 2);
}

TEST_CASE("a token endpoint outage is retried with backoff; sends wait without burning attempts") {
  Fixture f;
  f.send();
  f.http.answer({503, "", {}, {}});
  CHECK_FALSE(f.client->fatal_error());
  auto wake = f.client->next_wakeup();
  REQUIRE(wake.has_value());
  CHECK(*wake - f.clock.current >= 250ms);
  CHECK(*wake - f.clock.current <= 500ms);
  f.advance(std::chrono::duration_cast<std::chrono::milliseconds>(*wake - f.clock.current));
  REQUIRE(f.http.next_is_token());
  f.http.answer(test::token_response());
  f.http.answer(kAccepted);
  REQUIRE(f.results.size() == 1);
  CHECK(f.results[0].attempts == 1);
}

TEST_CASE("a token endpoint outage is logged with the next try, retried while no send waits, and its end logged") {
  Fixture f;
  f.client->warm_up();
  REQUIRE(f.http.next_is_token());
  const auto outage_start = f.clock.current;
  f.http.answer({503, "", "1", {}});
  CHECK_FALSE(f.client->tokens_ready());
  CHECK(f.log.lines() == std::vector<std::string>{
                             R"({"level":"warning","msg":"SFMC token endpoint of account 'default' unreachable; )"
                             R"(next try in 1.0 s","error":"token request for account 'default' refused: HTTP 503"})"});
  // Asked again on its backoff although no send waits; a failure within 30 s
  // of the last line adds none.
  REQUIRE(f.client->next_wakeup() == f.clock.current + 1s);
  f.advance(1s);
  REQUIRE(f.http.next_is_token());
  f.http.answer({0, "", {}, "Couldn't connect to server"});
  CHECK(f.log.lines().size() == 1);
  f.advance(std::chrono::duration_cast<std::chrono::milliseconds>(*f.client->next_wakeup() - f.clock.current));
  REQUIRE(f.http.next_is_token());
  f.http.answer({429, "", "2", {}});
  f.advance(2s);
  REQUIRE(f.http.next_is_token());
  f.http.answer(test::token_response());
  CHECK(f.client->tokens_ready());
  char recovered[160];
  std::snprintf(recovered, sizeof recovered,
                R"({"level":"info","msg":"SFMC token endpoint of account 'default' reachable again after %.1f s"})",
                std::chrono::duration<double>(f.clock.current - outage_start).count());
  auto lines = f.log.lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[1] == recovered);
  CHECK(f.client->token_requests() == 4);
  CHECK(f.client->next_wakeup() == std::nullopt);  // nothing more to ask for
}

TEST_CASE("the backoff sequence for a seeded jitter is exact and within [ceiling/2, ceiling]") {
  Fixture f(account(), RetryPolicy{8, 100ms, 2000ms, 600s, 10s});
  std::vector<int64_t> sequence;
  for (int attempt = 1; attempt <= 7; ++attempt) sequence.push_back(f.client->backoff(attempt, std::nullopt).count());
  const std::vector<int64_t> ceilings{100, 200, 400, 800, 1600, 2000, 2000};
  for (size_t i = 0; i < sequence.size(); ++i) {
    CHECK(sequence[i] >= ceilings[i] / 2);
    CHECK(sequence[i] <= ceilings[i]);
  }
  // Pinned for seed 42 (std::mt19937_64 and libstdc++'s distribution):
  // a change to the backoff formula shows up here.
  CHECK(sequence == std::vector<int64_t>{88, 164, 351, 454, 1523, 1094, 1575});
  Fixture same_seed(account(), RetryPolicy{8, 100ms, 2000ms, 600s, 10s});
  for (int attempt = 1; attempt <= 7; ++attempt)
    CHECK(same_seed.client->backoff(attempt, std::nullopt).count() == sequence[attempt - 1]);
  CHECK(f.client->backoff(3, 7) == 7000ms);
}

TEST_CASE("429 with Retry-After: the retry goes out at that second, not before; the account waits too") {
  Fixture f;
  f.send(sms_one("a"));
  f.http.answer(test::token_response());
  f.http.answer({429, R"({"errorcode":50100,"retryAfter":5})", "7", {}});
  CHECK(f.http.open.empty());
  f.send(sms_one("b"));  // the account is throttled: held back as well
  f.advance(6999ms);
  CHECK(f.http.open.empty());
  f.advance(1ms);
  REQUIRE(f.http.open.size() == 2);
  f.http.answer(kAccepted);
  f.http.answer(kAccepted);
  REQUIRE(f.results.size() == 2);
  CHECK(f.results[0].attempts + f.results[1].attempts == 3);  // "a" went twice, "b" once
}

TEST_CASE("429 50200 (temporarily blocked) cuts the concurrency limit; the call goes again soon, costing no attempt") {
  Fixture f(account(), RetryPolicy{2, 100ms, 1000ms, 600s, 10s});
  for (int i = 0; i < 10; ++i) f.send(sms_one(std::string("k").append(std::to_string(i))));
  f.http.answer(test::token_response());
  CHECK(f.http.open.size() == 8);
  const HttpResponse blocked{429, R"({"errorcode":50200,"message":"Your requests are temporarily blocked."})", {}, {}};
  f.http.answer(blocked);
  CHECK(f.client->concurrency("default").limit() == 6);
  CHECK_FALSE(f.client->cooling_down("default"));
  CHECK(f.http.open.size() == 7);  // 7 in flight, limit 6: nothing starts
  f.http.answer(blocked);           // started before the cut: no second cut
  CHECK(f.client->concurrency("default").limit() == 6);
  f.advance(50ms);  // both retries are due, behind the limit
  CHECK(f.http.open.size() == 6);
  while (!f.http.open.empty()) f.http.answer(kAccepted);
  REQUIRE(f.results.size() == 10);
  for (const auto& r : f.results) CHECK(r.status == OutcomeStatus::Accepted);  // max_attempts 2 notwithstanding
  CHECK(f.metric("sfmc_relay_retries_total") == 2);
  CHECK(f.metric("sfmc_relay_account_cooldowns_total") == 0);
  CHECK(f.http.started.size() == 1 + 12);
}

TEST_CASE("429 50200 at a concurrency limit of 1, or with a pinned limit, cools the whole account down") {
  auto pinned = account();
  pinned.concurrency = 4;
  struct Case {
    AccountConfig account;
    ConcurrencyOptions concurrency;
    size_t after_pause;  // calls that go when it ends
  };
  for (const auto& [a, c, after_pause] : {Case{account(), {.initial = 1}, 1}, Case{pinned, {}, 2}}) {
    Fixture f(a, RetryPolicy{5, 100ms, 1000ms, 600s, 10s}, c);
    f.send(sms_one("a"));
    f.http.answer(test::token_response());
    f.http.answer({429, R"({"errorcode":50200,"message":"Your requests are temporarily blocked."})", {}, {}});
    CHECK(f.client->cooling_down("default"));
    f.send(sms_one("b"));
    f.advance(9999ms);
    CHECK(f.http.open.empty());
    f.advance(1ms);
    CHECK(f.http.open.size() == after_pause);
    CHECK_FALSE(f.client->cooling_down("default"));
    CHECK(f.metric("sfmc_relay_account_cooldowns_total") == 1);
  }
}

TEST_CASE("the concurrency limit shows per account in metrics, and a log line says when it halved or doubled") {
  Fixture f;
  for (int i = 0; i < 40; ++i) f.send(sms_one(std::string("k").append(std::to_string(i))));
  f.http.answer(test::token_response());
  CHECK(f.metric("sfmc_relay_sfmc_concurrency_limit") == 8);
  CHECK(f.metric("sfmc_relay_sfmc_calls_in_flight") == 8);
  f.clock.current += 200ms;
  f.http.answer(kAccepted);  // the first window: calls wait, clean, so the limit doubles
  CHECK(f.metric("sfmc_relay_sfmc_concurrency_limit") == 16);
  CHECK(f.metric("sfmc_relay_sfmc_latency_baseline_seconds") == doctest::Approx(0.2));
  auto lines = f.log.lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == R"({"level":"info","msg":"SFMC concurrency limit raised","account":"default","limit":16,)"
                    R"("previous":8,"in_flight":7,"latency_baseline_ms":200})");
  f.http.answer({429, R"({"errorcode":50200,"message":"Your requests are temporarily blocked."})", {}, {}});
  CHECK(f.metric("sfmc_relay_sfmc_concurrency_limit") == 14);
  CHECK(f.log.lines().size() == 1);  // 16 -> 14: not worth a line
}

TEST_CASE("a token endpoint whose certificate is refused: waiting sends fail at once with the reason, sends that "
          "come later too; the token is still asked for, and a token ends it") {
  Fixture f;
  std::vector<uint64_t> left_waiting;
  f.client->on_dispatch([&](uint64_t tag, size_t sends) {
    CHECK(sends == 1);
    left_waiting.push_back(tag);
  });
  SendRequest first = sms_one("key/1");
  first.tag = 7;
  f.send(first);
  f.send(sms_one("key/2"));
  REQUIRE(f.http.next_is_token());
  const std::string refused = "TLS: the certificate of https://auth.example.test was refused, nothing was sent: "
                              "SSL certificate problem: unable to get local issuer certificate (trusted CAs: /ca.pem)";
  HttpResponse tls{0, "", {}, refused};
  tls.certificate_refused = true;
  f.http.answer(tls);
  REQUIRE(f.results.size() == 2);
  for (const auto& result : f.results) {
    CHECK(result.status == OutcomeStatus::Failed);
    CHECK(result.attempts == 0);
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].message == "no SFMC token for account 'default': token request to "
                                      "https://auth.example.test/v2/token failed: " + refused);
  }
  CHECK(left_waiting.size() == 2);
  CHECK(std::count(left_waiting.begin(), left_waiting.end(), 7) == 1);
  CHECK(f.http.started.size() == 1);  // no send went anywhere
  CHECK_FALSE(f.client->fatal_error());
  CHECK(f.client->pending() == 0);

  // A send that comes while the certificate stays refused fails at the next poll.
  f.send(sms_one("key/3"));
  REQUIRE(f.client->next_wakeup() == f.clock.current);
  f.client->poll();
  REQUIRE(f.results.size() == 3);
  CHECK(f.results[2].status == OutcomeStatus::Failed);
  CHECK(f.http.started.size() == 1);

  // The token is asked for again on its backoff; once one comes, sends go.
  f.advance(std::chrono::duration_cast<std::chrono::milliseconds>(*f.client->next_wakeup() - f.clock.current));
  REQUIRE(f.http.next_is_token());
  f.http.answer(test::token_response());
  f.send(sms_one("key/1"));
  REQUIRE(f.http.open.size() == 1);
  CHECK(f.http.open.front().request.url.find("/messaging/v1/sms/messages/") != std::string::npos);
  f.http.answer(kAccepted);
  REQUIRE(f.results.size() == 4);
  CHECK(f.results[3].status == OutcomeStatus::Accepted);
}

TEST_CASE("a token outage that is not a refused certificate keeps the sends waiting") {
  Fixture f;
  f.send();
  f.http.answer({0, "", {}, "Couldn't connect to server"});
  f.client->poll();
  CHECK(f.results.empty());
  CHECK(f.client->pending() == 1);
}

TEST_CASE("a send whose TLS certificate is refused fails at once, with the reason: no retry") {
  Fixture f;
  f.send();
  f.http.answer(test::token_response());
  HttpResponse tls{0, "", {}, "TLS: the certificate of https://rest.example.test was refused, nothing was sent: x"};
  tls.certificate_refused = true;
  f.http.answer(tls);
  REQUIRE(f.results.size() == 1);
  CHECK(f.results[0].status == OutcomeStatus::Failed);
  CHECK(f.results[0].attempts == 1);
  REQUIRE(f.results[0].errors.size() == 1);
  CHECK(f.results[0].errors[0].message ==
        "no response from SFMC: TLS: the certificate of https://rest.example.test was refused, nothing was sent: x");
  CHECK(f.client->next_wakeup() == std::nullopt);  // no retry scheduled
  CHECK(f.client->concurrency("default").limit() == ConcurrencyOptions{}.initial);  // not read as back-pressure
  // Said once in the log however many sends meet it, and its end too.
  f.send(sms_one("key/2"));
  f.http.answer(tls);
  CHECK(f.results.size() == 2);
  CHECK(f.log.lines() == std::vector<std::string>{
                             R"({"level":"warning","msg":"SFMC REST endpoint of account 'default' unreachable",)"
                             R"("error":"TLS: the certificate of https://rest.example.test was refused, nothing was )"
                             R"(sent: x"})"});
  f.send(sms_one("key/1"));
  f.http.answer(kAccepted);
  CHECK(f.log.lines().size() == 2);
}

TEST_CASE("retryable failures end as failed after max_attempts, with the last error") {
  Fixture f(account(), RetryPolicy{3, 100ms, 1000ms, 600s, 10s});
  f.send();
  f.http.answer(test::token_response());
  f.http.answer({503, R"({"errorcode":50300})", "", {}});
  f.advance(1000ms);
  f.http.answer({0, "", {}, "Connection refused"});
  f.advance(1000ms);
  f.http.answer({500, R"({"message":"Internal error"})", {}, {}});
  REQUIRE(f.results.size() == 1);
  CHECK(f.results[0].status == OutcomeStatus::Failed);
  CHECK(f.results[0].attempts == 3);
  CHECK(f.results[0].http_status == 500);
  CHECK(f.results[0].errors.at(0).message == "Internal error");
}

TEST_CASE("no retry is scheduled past max_total") {
  Fixture f(account(), RetryPolicy{50, 100ms, 1000ms, 5s, 10s});
  f.send();
  f.http.answer(test::token_response());
  f.http.answer({503, "", "4", {}});
  f.advance(4s);
  f.http.answer({503, "", "4", {}});  // the next try would start 8 s after the first
  REQUIRE(f.results.size() == 1);
  CHECK(f.results[0].status == OutcomeStatus::Failed);
  CHECK(f.results[0].attempts == 2);
}

TEST_CASE("a retry that meets 109110 for its own key is accepted") {
  Fixture f;
  f.send();
  f.http.answer(test::token_response());
  f.http.answer({0, "", {}, "Operation timed out"});
  f.advance(1s);
  f.http.answer({202,
                 R"({"requestId":"r2","errorcode":109001,"responses":[{"messageKey":"key/1","errorcode":109110,"message":"MCMS_UTM_Validation_DuplicateMessageKey: messageKey reused within the past 2 days"}]})",
                 {},
                 {}});
  REQUIRE(f.results.size() == 1);
  CHECK(f.results[0].status == OutcomeStatus::Accepted);
  CHECK(f.results[0].attempts == 2);
  CHECK(f.results[0].message_keys == std::vector<std::string>{"key/1"});
}

TEST_CASE("a redriven failed event that meets 109110 on its first try, on a producer's key, is accepted") {
  for (bool redriven_failed : {true, false}) {
    Fixture f;
    SendRequest request = sms_one();
    request.may_have_been_sent = redriven_failed;
    f.send(request);
    f.http.answer(test::token_response());
    f.http.answer({202,
                   R"({"requestId":"r1","errorcode":109001,"responses":[{"messageKey":"key/1","errorcode":109110,"message":"MCMS_UTM_Validation_DuplicateMessageKey: messageKey reused within the past 2 days"}]})",
                   {},
                   {}});
    REQUIRE(f.results.size() == 1);
    CHECK_MESSAGE(f.results[0].status == (redriven_failed ? OutcomeStatus::Accepted : OutcomeStatus::Rejected),
                  redriven_failed);
    CHECK(f.results[0].attempts == 1);
  }
}

TEST_CASE("the rate limit spaces sends of an account") {
  Fixture f(account(2, 1));
  for (int i = 0; i < 4; ++i) f.send();
  f.http.answer(test::token_response());
  CHECK(f.http.open.size() == 1);
  f.advance(499ms);
  CHECK(f.http.open.size() == 1);
  f.advance(1ms);
  CHECK(f.http.open.size() == 2);
  f.advance(500ms);
  CHECK(f.http.open.size() == 3);
  f.advance(5000ms);  // a burst of 1: idle time does not save up sends
  CHECK(f.http.open.size() == 4);
}

TEST_CASE("base URLs are normalised") {
  CHECK(normalize_base_url("host.example.test") == "https://host.example.test");
  CHECK(normalize_base_url("https://host.example.test/") == "https://host.example.test");
  CHECK(normalize_base_url("http://127.0.0.1:8080//") == "http://127.0.0.1:8080");
}

TEST_CASE("after a 401 or a 429, which SFMC did not process, 109110 on a producer's key stays a refusal") {
  for (int status : {401, 429}) {
    Fixture f;
    f.send();
    f.http.answer(test::token_response("a"));
    f.http.answer({status, R"({"errorcode":0,"message":"no"})", "0", {}});
    if (f.http.next_is_token()) f.http.answer(test::token_response("b"));
    f.advance(1s);
    REQUIRE(f.http.open.size() == 1);
    f.http.answer({202,
                   R"({"requestId":"r2","errorcode":109001,"responses":[{"messageKey":"key/1","errorcode":109110,"message":"MCMS_UTM_Validation_DuplicateMessageKey: messageKey reused within the past 2 days"}]})",
                   {},
                   {}});
    REQUIRE(f.results.size() == 1);
    CHECK_MESSAGE(f.results[0].status == OutcomeStatus::Rejected, status);
    CHECK(f.results[0].attempts == 2);
  }
}

TEST_CASE("shared tokens: each token goes on the shelf; a wish for one fetches only when the held one is due or "
          "refused") {
  Fixture f;
  TokenShelf shelf;
  f.client->share_tokens(shelf);
  CHECK_FALSE(shelf.get("default"));
  shelf.want("default");
  f.client->poll();
  REQUIRE(f.http.next_is_token());
  f.http.answer(test::token_response("tok-1"));
  REQUIRE(shelf.get("default"));
  CHECK(shelf.get("default")->value == "tok-1");
  CHECK(shelf.get("default")->rest_base_url == "https://rest.example.test");

  shelf.want("default");  // the held one is fresh: no request, it goes on the shelf again
  f.client->poll();
  CHECK(f.http.open.empty());
  shelf.want("default", "some-other-token");
  f.client->poll();
  CHECK(f.http.open.empty());
  shelf.want("default", "tok-1");  // SFMC refused the held one: a new one
  f.client->poll();
  REQUIRE(f.http.next_is_token());
  f.http.answer(test::token_response("tok-2"));
  CHECK(shelf.get("default")->value == "tok-2");
  CHECK(f.client->token_requests() == 2);
}
