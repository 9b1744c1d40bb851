#include <doctest/doctest.h>

#include <algorithm>

#include "fakes.h"
#include "sfmc/client.h"

using namespace sfmc;
using namespace std::chrono_literals;

namespace {

std::map<std::string, AccountConfig> accounts() {
  return {{"default", AccountConfig{"default", "https://auth.example.test/", "id", "secret", 42, std::nullopt}}};
}

SendRequest sms_one() {
  return {"e-1", Operation::TransactionalSmsSendOne, "default", "key/1", R"({"definitionKey":"d"})"};
}

const HttpResponse kAccepted{202, R"({"requestId":"r","errorcode":0,"responses":[{"messageKey":"key/1"}]})", {}, {}};

}  // namespace

TEST_CASE("a send fetches a token, then posts the body with it to rest_instance_url") {
  test::FakeTransport http;
  test::FakeClock clock;
  SfmcClient client(accounts(), http, clock, RetryPolicy{}, 1);
  http.responses = {test::token_response("tok-1"), kAccepted};
  Outcome outcome;
  client.send(sms_one(), outcome);

  CHECK(outcome.status == OutcomeStatus::Accepted);
  CHECK(outcome.attempts == 1);
  CHECK(outcome.message_keys == std::vector<std::string>{"key/1"});
  REQUIRE(http.requests.size() == 2);
  CHECK(http.requests[0].url == "https://auth.example.test/v2/token");
  CHECK(http.requests[0].body ==
        R"({"grant_type":"client_credentials","client_id":"id","client_secret":"secret","account_id":42})");
  CHECK(http.requests[1].url == "https://rest.example.test/messaging/v1/sms/messages/key%2F1");
  CHECK(http.requests[1].body == R"({"definitionKey":"d"})");
  CHECK(std::find(http.requests[1].headers.begin(), http.requests[1].headers.end(), "Authorization: Bearer tok-1") !=
        http.requests[1].headers.end());
}

TEST_CASE("the token is reused until shortly before it expires") {
  test::FakeTransport http;
  test::FakeClock clock;
  SfmcClient client(accounts(), http, clock, RetryPolicy{}, 1);
  http.responses = {test::token_response("tok-1", 1080), kAccepted, kAccepted, test::token_response("tok-2"), kAccepted};
  Outcome o;
  client.send(sms_one(), o);
  clock.current += 779s;  // refresh 300 s ahead of 1080 s
  client.send(sms_one(), o);
  CHECK(http.requests.size() == 3);
  clock.current += 2s;
  client.send(sms_one(), o);
  REQUIRE(http.requests.size() == 5);
  CHECK(http.requests[3].url == "https://auth.example.test/v2/token");
}

TEST_CASE("a 401 refreshes the token once and retries once") {
  test::FakeTransport http;
  test::FakeClock clock;
  SfmcClient client(accounts(), http, clock, RetryPolicy{}, 1);
  http.responses = {test::token_response("old"), {401, R"({"errorcode":0,"message":"Not Authorized"})", {}, {}},
                    test::token_response("new"), kAccepted};
  Outcome outcome;
  client.send(sms_one(), outcome);
  CHECK(outcome.status == OutcomeStatus::Accepted);
  CHECK(outcome.attempts == 2);
  REQUIRE(http.requests.size() == 4);
  CHECK(http.requests[3].headers.back() == "Authorization: Bearer new");
  CHECK(clock.sleeps.empty());
}

TEST_CASE("a second 401 is final: rejected, not an endless loop") {
  test::FakeTransport http;
  test::FakeClock clock;
  SfmcClient client(accounts(), http, clock, RetryPolicy{}, 1);
  HttpResponse unauthorized{401, R"({"errorcode":0,"message":"Not Authorized"})", {}, {}};
  http.responses = {test::token_response("a"), unauthorized, test::token_response("b"), unauthorized};
  Outcome outcome;
  client.send(sms_one(), outcome);
  CHECK(outcome.status == OutcomeStatus::Rejected);
  CHECK(outcome.http_status == 401);
  CHECK(outcome.errors.at(0).message == "Not Authorized");
}

TEST_CASE("invalid_client from the token endpoint is rejected without retrying") {
  test::FakeTransport http;
  test::FakeClock clock;
  SfmcClient client(accounts(), http, clock, RetryPolicy{}, 1);
  http.responses = {{401, R"({"error":"invalid_client","error_description":"Client authentication failed."})", {}, {}}};
  Outcome outcome;
  client.send(sms_one(), outcome);
  CHECK(outcome.status == OutcomeStatus::Rejected);
  CHECK(http.requests.size() == 1);
  CHECK(outcome.errors.at(0).message ==
        "token request for account 'default' refused: HTTP 401 invalid_client: Client authentication failed.");
}

TEST_CASE("retryable failures back off, honour Retry-After, and end as failed after max_attempts") {
  test::FakeTransport http;
  test::FakeClock clock;
  RetryPolicy policy{3, 100ms, 1000ms};
  SfmcClient client(accounts(), http, clock, policy, 7);
  http.responses = {test::token_response(), {503, R"({"errorcode":50300})", "", {}},
                    {429, R"({"errorcode":50100,"retryAfter":2})", "", {}}, {500, "", {}, {}}};
  Outcome outcome;
  client.send(sms_one(), outcome);
  CHECK(outcome.status == OutcomeStatus::Failed);
  CHECK(outcome.attempts == 3);
  CHECK(outcome.http_status == 500);
  REQUIRE(clock.sleeps.size() == 2);
  CHECK(clock.sleeps[0] >= 50ms);
  CHECK(clock.sleeps[0] <= 100ms);
  CHECK(clock.sleeps[1] == 1000ms);  // Retry-After 2 s, capped by max_backoff
}

TEST_CASE("a retry that meets 109110 for its own key is accepted") {
  test::FakeTransport http;
  test::FakeClock clock;
  SfmcClient client(accounts(), http, clock, RetryPolicy{}, 1);
  http.responses = {test::token_response(), {0, "", {}, "Operation timed out"},
                    {202, R"({"requestId":"r2","errorcode":109001,"responses":[{"messageKey":"key/1","errorcode":109110,"message":"MCMS_UTM_Validation_DuplicateMessageKey: messageKey reused within the past 2 days"}]})", {}, {}}};
  Outcome outcome;
  client.send(sms_one(), outcome);
  CHECK(outcome.status == OutcomeStatus::Accepted);
  CHECK(outcome.attempts == 2);
  CHECK(outcome.message_keys == std::vector<std::string>{"key/1"});
}

TEST_CASE("base URLs are normalised") {
  CHECK(normalize_base_url("host.example.test") == "https://host.example.test");
  CHECK(normalize_base_url("https://host.example.test/") == "https://host.example.test");
  CHECK(normalize_base_url("http://127.0.0.1:8080//") == "http://127.0.0.1:8080");
}
