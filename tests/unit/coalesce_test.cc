// The client's coalescing: which waiting sends share a call, what the call
// looks like, and what each send hears back.
#include <doctest/doctest.h>

#include "fakes.h"
#include "sfmc/client.h"

using namespace sfmc;
using namespace std::chrono_literals;

namespace {

constexpr const char* kShared = R"("definitionKey":"d","content":{"message":"hi"})";

std::string recipient(const std::string& key) {
  return R"({"contactKey":"c-)" + key + R"(","to":"1555","messageKey":")" + key + R"("})";
}

// A transactional.sms.send event as the decoder hands it over.
SendRequest sms(const std::string& id, std::vector<std::string> keys, const std::string& shared = kShared) {
  MergeableSend parts{Operation::TransactionalSmsSend, shared, {}, keys};
  std::string list;
  for (const auto& key : keys) {
    parts.recipients.push_back(recipient(key));
    if (!list.empty()) list += ',';
    list += recipient(key);
  }
  return {id, Operation::TransactionalSmsSend, "default", "", "{" + shared + R"(,"recipients":[)" + list + "]}",
          std::move(parts)};
}

std::string batch_body(const std::vector<std::string>& keys) {
  std::string list;
  for (const auto& key : keys) {
    if (!list.empty()) list += ',';
    list += recipient(key);
  }
  return std::string("{") + kShared + R"(,"recipients":[)" + list + "]}";
}

HttpResponse accepted(const std::vector<std::string>& keys) {
  std::string responses;
  for (const auto& key : keys) responses += (responses.empty() ? "" : ",") + std::string(R"({"messageKey":")") + key + "\"}";
  return {202, R"({"requestId":"r","errorcode":0,"responses":[)" + responses + "]}", {}, {}};
}

struct Fixture {
  test::FakeTransport http;
  test::FakeClock clock;
  prometheus::Registry registry;
  Metrics metrics{registry, "test"};
  test::LogCapture log;
  std::unique_ptr<SfmcClient> client;
  std::map<std::string, SendResult> results;  // by event id

  explicit Fixture(CoalesceOptions coalesce = {}, RetryPolicy retry = {}, ConcurrencyOptions concurrency = {}) {
    AccountConfig a{"default", "https://auth.example.test/", "id", "secret", std::nullopt, std::nullopt, 0, 1};
    client = std::make_unique<SfmcClient>(std::map<std::string, AccountConfig>{{"default", a}}, http, clock, metrics,
                                          log.logger, retry, 42, coalesce, concurrency);
  }
  // With a token in hand, as a running relay is.
  void warm() {
    client->warm_up();
    http.answer(test::token_response());
  }
  void send(SendRequest r) {
    std::string id = r.id;
    client->send(std::move(r), [this, id](SendResult result) { results[id] = std::move(result); });
  }
  const HttpRequest& last() { return http.started.back(); }
  double metric(const std::string& name) {
    for (const auto& family : registry.Collect())
      if (family.name == name) {
        if (family.type == prometheus::MetricType::Counter) return family.metric.at(0).counter.value;
        double count = 0;
        for (const auto& m : family.metric) count += static_cast<double>(m.histogram.sample_count);
        return count;
      }
    return -1;
  }
};

const std::string kBatchUrl = "https://rest.example.test/messaging/v1/sms/messages/";

}  // namespace

TEST_CASE("an idle client sends a mergeable event at the next poll, alone, with its own route and body") {
  Fixture f;
  f.warm();
  f.send(sms("e1", {"k1"}));
  CHECK(f.http.open.empty());  // waits for the poll, so what is queued with it can join
  f.client->poll();
  REQUIRE(f.http.open.size() == 1);
  CHECK(f.last().url == kBatchUrl);
  CHECK(f.last().body == sms("e1", {"k1"}).body);
}

TEST_CASE("events waiting for a token merge into one batch call; each gets its own keys back") {
  Fixture f;
  f.send(sms("e1", {"k1"}));
  f.send(sms("e2", {"k2", "k3"}));
  // A sendOne: its path key is its recipient's messageKey.
  SendRequest one{"e3", Operation::TransactionalSmsSendOne, "default", "k4",
                  std::string("{") + kShared + R"(,"recipient":{"contactKey":"c-k4","to":"1555"}})",
                  MergeableSend{Operation::TransactionalSmsSend, kShared, {recipient("k4")}, {"k4"}}};
  f.send(one);
  f.client->poll();
  REQUIRE(f.http.next_is_token());
  f.http.answer(test::token_response());
  REQUIRE(f.http.open.size() == 1);
  CHECK(f.last().url == kBatchUrl);
  CHECK(f.last().body == batch_body({"k1", "k2", "k3", "k4"}));
  f.http.answer({202,
                 R"({"requestId":"r-9","errorcode":109001,"message":"MCMS_UTM_ResponsesHasErrors: 1 subscribers failed to queue out of 4","responses":[{"messageKey":"k1"},{"messageKey":"k2"},{"messageKey":"k3","errorcode":109121,"message":"MCMS_UTM_Validation_InvalidValue_to: Invalid subscriber"},{"messageKey":"k4"}]})",
                 {},
                 {}});
  REQUIRE(f.results.size() == 3);
  CHECK(f.results["e1"].status == OutcomeStatus::Accepted);
  CHECK(f.results["e1"].message_keys == std::vector<std::string>{"k1"});
  CHECK(f.results["e1"].errors.empty());
  CHECK(f.results["e1"].request_id == "r-9");
  CHECK(f.results["e2"].status == OutcomeStatus::PartiallyAccepted);
  CHECK(f.results["e2"].message_keys == std::vector<std::string>{"k2"});
  REQUIRE(f.results["e2"].errors.size() == 1);
  CHECK(f.results["e2"].errors[0].message_key == "k3");
  CHECK(f.results["e2"].errors[0].code == 109121);
  CHECK(f.results["e3"].status == OutcomeStatus::Accepted);
  CHECK(f.results["e3"].message_keys == std::vector<std::string>{"k4"});
  CHECK(f.metric("sfmc_relay_coalesced_events_total") == 3);
  CHECK(f.metric("sfmc_relay_batch_recipients") == 1);
}

TEST_CASE("calls in flight stop at the connections; what waits meanwhile goes in one call when one frees") {
  Fixture f({}, {}, {.max = 1});
  f.warm();
  f.send(sms("e1", {"k1"}));
  f.client->poll();
  for (int i = 2; i <= 4; ++i) f.send(sms(std::string("e").append(std::to_string(i)), {std::string("k").append(std::to_string(i))}));
  f.client->poll();
  CHECK(f.http.open.size() == 1);
  f.http.answer(accepted({"k1"}));
  REQUIRE(f.http.open.size() == 1);
  CHECK(f.last().body == batch_body({"k2", "k3", "k4"}));
  f.http.answer(accepted({"k2", "k3", "k4"}));
  CHECK(f.results.size() == 4);
  CHECK(f.http.started.size() == 3);  // token, e1, the rest
}

TEST_CASE("never merged: other request-level fields, a colliding explicit key, past max_recipients") {
  Fixture f(CoalesceOptions{.max_recipients = 3}, {}, {.max = 1});
  f.warm();
  f.send(sms("busy", {"k0"}));
  f.client->poll();
  f.send(sms("e1", {"k1", "k2"}));
  f.send(sms("other", {"k3"}, R"("definitionKey":"another")"));
  f.send(sms("same-key", {"k1"}));  // SFMC would refuse the whole request
  f.send(sms("e2", {"k4"}));
  f.send(sms("too-many", {"k5", "k6"}));  // 2 + 1 + 2 > 3
  f.client->poll();
  f.http.answer(accepted({"k0"}));
  CHECK(f.last().body == batch_body({"k1", "k2", "k4"}));
  f.http.answer(accepted({"k1", "k2", "k4"}));
  CHECK(f.last().body == batch_body({"k1", "k5", "k6"}));  // what is left fills a call: it goes first
  f.http.answer(accepted({"k1", "k5", "k6"}));
  CHECK(f.last().body == sms("other", {"k3"}, R"("definitionKey":"another")").body);
  f.http.answer(accepted({"k3"}));
  CHECK(f.results.size() == 6);
  for (const auto& [id, result] : f.results) CHECK_MESSAGE(result.status == OutcomeStatus::Accepted, id);
}

TEST_CASE("a request-level refusal is every merged event's outcome") {
  Fixture f;
  f.send(sms("e1", {"k1"}));
  f.send(sms("e2", {"k2"}));
  f.client->poll();
  f.http.answer(test::token_response());
  f.http.answer({400, R"({"message":"MCMS_UTM_Validation_InvalidValue_definitionKey","errorcode":109111})", {}, {}});
  REQUIRE(f.results.size() == 2);
  for (const auto& id : {"e1", "e2"}) {
    const SendResult& r = f.results[id];
    CHECK(r.status == OutcomeStatus::Rejected);
    CHECK(r.http_status == 400);
    CHECK(r.message_keys.empty());
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].code == 109111);
  }
}

TEST_CASE("a 503 retries the batch whole; 109110 on the retry means sent before: accepted, attempts 2") {
  Fixture f;
  f.send(sms("e1", {"k1"}));
  f.send(sms("e2", {"k2"}));
  f.client->poll();
  f.http.answer(test::token_response());
  f.http.answer({503, R"({"message":"busy","errorcode":50300})", "1", {}});
  f.send(sms("late", {"k9"}));  // the retry takes no newcomer
  f.clock.current += 1s;
  f.client->poll();
  REQUIRE(f.http.open.size() == 2);
  CHECK(f.http.open[0].request.body == sms("late", {"k9"}).body);
  CHECK(f.http.open[1].request.body == batch_body({"k1", "k2"}));
  f.http.answer(accepted({"k9"}));
  f.http.answer({202,
                 R"({"requestId":"r","errorcode":109001,"responses":[{"messageKey":"k1","errorcode":109110,"message":"dup"},{"messageKey":"k2"}]})",
                 {},
                 {}});
  for (const auto& id : {"e1", "e2"}) {
    CHECK(f.results[id].status == OutcomeStatus::Accepted);
    CHECK(f.results[id].attempts == 2);
  }
  CHECK(f.results["e1"].message_keys == std::vector<std::string>{"k1"});
}

TEST_CASE("max_wait holds an idle send back for company, until it is due or its group fills a call") {
  Fixture f(CoalesceOptions{.max_recipients = 3, .max_wait = 50ms});
  f.warm();
  f.send(sms("e1", {"k1"}));
  f.client->poll();
  CHECK(f.http.open.empty());
  REQUIRE(f.client->next_wakeup());
  CHECK(*f.client->next_wakeup() == f.clock.current + 50ms);
  f.clock.current += 49ms;
  f.client->poll();
  CHECK(f.http.open.empty());
  f.clock.current += 1ms;
  f.client->poll();
  REQUIRE(f.http.open.size() == 1);

  f.send(sms("e2", {"k2", "k3"}));
  f.send(sms("e3", {"k4"}));
  f.client->poll();  // three recipients: full, no need to wait
  REQUIRE(f.http.open.size() == 2);
  CHECK(f.last().body == batch_body({"k2", "k3", "k4"}));
}

TEST_CASE("coalescing off: one call per event") {
  Fixture f(CoalesceOptions{.enabled = false});
  f.send(sms("e1", {"k1"}));
  f.send(sms("e2", {"k2"}));
  f.http.answer(test::token_response());
  REQUIRE(f.http.open.size() == 2);
  CHECK(f.http.open[0].request.body == sms("e1", {"k1"}).body);
  CHECK(f.http.open[1].request.body == sms("e2", {"k2"}).body);
}

TEST_CASE("a send nothing joins goes while the limit has room; sends that could merge wait only while it is full") {
  Fixture f(CoalesceOptions{.max_recipients = 3}, {}, {.max = 8, .fixed = 3});
  f.warm();
  f.send(sms("e1", {"k1"}));
  f.client->poll();
  f.send(sms("otp", {"k2"}, R"("definitionKey":"d","content":{"message":"code 1234"})"));
  f.client->poll();
  f.send(sms("e3", {"k3"}));
  f.client->poll();
  CHECK(f.http.open.size() == 3);  // none held back for company while there is room
  f.send(sms("e4", {"k4"}));
  f.send(sms("e5", {"k5"}));
  f.send(sms("mc", {"k6"}, R"("definitionKey":"other")"));
  f.client->poll();
  CHECK(f.http.open.size() == 3);  // the limit is full: they wait, and merge meanwhile
  f.http.answer(accepted({"k1"}));
  REQUIRE(f.http.open.size() == 3);
  CHECK(f.last().body == batch_body({"k4", "k5"}));
  f.http.answer(accepted({"k2"}));
  REQUIRE(f.http.open.size() == 3);
  CHECK(f.last().body == sms("mc", {"k6"}, R"("definitionKey":"other")").body);
}

TEST_CASE("a merged stream that one call carries does not raise the limit; more than a call's worth waiting does") {
  Fixture f(CoalesceOptions{.max_recipients = 3}, {}, {.max = 8, .initial = 1});
  f.warm();
  f.send(sms("e1", {"k1"}));
  f.client->poll();
  f.send(sms("e2", {"k2"}));
  f.send(sms("e3", {"k3"}));
  f.client->poll();
  f.clock.current += 200ms;
  f.http.answer(accepted({"k1"}));  // a clean window, but what waited was company for one call
  CHECK(f.client->concurrency("default").limit() == 1);
  REQUIRE(f.http.open.size() == 1);
  CHECK(f.last().body == batch_body({"k2", "k3"}));
  for (int i = 4; i <= 7; ++i)
    f.send(sms(std::string("e").append(std::to_string(i)), {std::string("k").append(std::to_string(i))}));
  f.client->poll();
  f.clock.current += 200ms;
  f.http.answer(accepted({"k2", "k3"}));  // four recipients waited: more than a call of three
  CHECK(f.client->concurrency("default").limit() == 2);
  REQUIRE(f.http.open.size() == 2);
  CHECK(f.http.open[0].request.body == batch_body({"k4", "k5", "k6"}));
  CHECK(f.http.open[1].request.body == batch_body({"k7"}));
}

TEST_CASE("calls from groups in flight under half full keep the limit however much waits; fuller ones raise it") {
  Fixture f(CoalesceOptions{.max_recipients = 4}, {}, {.max = 8, .initial = 2});
  f.warm();
  f.send(sms("e1", {"k1"}));
  f.client->poll();
  f.send(sms("e2", {"k2"}));
  f.client->poll();
  REQUIRE(f.http.open.size() == 2);  // two calls of one recipient in four
  for (int i = 3; i <= 15; ++i)
    f.send(sms(std::string("e").append(std::to_string(i)), {std::string("k").append(std::to_string(i))}));
  f.client->poll();  // four calls' worth waits, but more places would only carry emptier calls
  f.clock.current += 200ms;
  f.http.answer(accepted({"k1"}));
  CHECK(f.client->concurrency("default").limit() == 2);
  REQUIRE(f.http.open.size() == 2);
  CHECK(f.http.open[1].request.body == batch_body({"k3", "k4", "k5", "k6"}));
  // In flight now: five recipients in two calls of four, over half full, and
  // three calls' worth waits: the window that has begun saw demand.
  f.http.answer(accepted({"k2"}));
  CHECK(f.http.open[1].request.body == batch_body({"k7", "k8", "k9", "k10"}));
  f.clock.current += 200ms;
  f.http.answer(accepted({"k3", "k4", "k5", "k6"}));
  CHECK(f.client->concurrency("default").limit() == 4);  // slow start: doubled
}

TEST_CASE("small groups that waited two round trips raise the limit, however empty the calls in flight") {
  Fixture f(CoalesceOptions{.max_recipients = 4}, {}, {.max = 8, .initial = 1});
  f.warm();
  auto one = [](const std::string& name) {
    return sms(name, {name}, R"("definitionKey":")" + name + R"(","content":{"message":"hi"})");
  };
  f.send(one("a"));
  f.client->poll();
  for (const char* name : {"b", "c", "d", "e", "f"}) f.send(one(name));
  f.client->poll();
  const auto& limit = f.client->concurrency("default");
  f.clock.current += 200ms;  // baseline 200 ms
  f.http.answer(accepted({"a"}));
  f.clock.current += 190ms;  // c, d, e and f have waited 390 ms
  f.http.answer(accepted({"b"}));
  CHECK(limit.limit() == 1);
  f.clock.current += 200ms;  // e and f have waited 590 ms: past two round trips
  f.http.answer(accepted({"c"}));
  CHECK(limit.limit() == 1);
  f.clock.current += 200ms;
  f.http.answer(accepted({"d"}));  // the window in which they waited
  CHECK(limit.limit() == 2);
}

TEST_CASE("a group that fills a call goes before older calls that wait: one place carries max_recipients sends") {
  Fixture f(CoalesceOptions{.max_recipients = 3}, {}, {.max = 8, .fixed = 1});
  f.warm();
  f.send(sms("busy", {"k0"}));
  f.client->poll();
  f.send(sms("otp-1", {"k1"}, R"("definitionKey":"d","content":{"message":"code 1"})"));
  f.send(sms("otp-3", {"k3"}, R"("definitionKey":"d","content":{"message":"code 3"})"));
  f.send(sms("e2", {"k2"}));
  f.send(sms("e4", {"k4"}));
  f.client->poll();
  f.http.answer(accepted({"k0"}));
  REQUIRE(f.http.open.size() == 1);  // two recipients of a group: the oldest call goes
  CHECK(f.last().body == sms("otp-1", {"k1"}, R"("definitionKey":"d","content":{"message":"code 1"})").body);
  f.send(sms("e5", {"k5"}));  // the group now fills a call
  f.client->poll();
  f.http.answer(accepted({"k1"}));
  REQUIRE(f.http.open.size() == 1);
  CHECK(f.last().body == batch_body({"k2", "k4", "k5"}));  // ahead of otp-3, which waited longer
  f.http.answer(accepted({"k2", "k4", "k5"}));
  REQUIRE(f.http.open.size() == 1);
  CHECK(f.last().body == sms("otp-3", {"k3"}, R"("definitionKey":"d","content":{"message":"code 3"})").body);
  f.http.answer(accepted({"k3"}));
  CHECK(f.results.size() == 6);
  CHECK(f.http.open.empty());
}
