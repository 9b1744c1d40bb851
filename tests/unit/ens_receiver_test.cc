// The ENS receiver's decisions on each POST, with a fake Kafka sink.
#include "pipeline/ens_receiver.h"

#include <doctest/doctest.h>

#include <stdexcept>

#include "fakes.h"

using namespace sfmc;
using namespace std::chrono_literals;

namespace {

constexpr const char* kKey = "c2lnbmF0dXJlLWtleS0xMjM0NTY3ODkwYWJjZGVm";  // base64 of 30 bytes
constexpr int64_t kNowMs = 1796058545000;                                 // 2026-11-30T17:09:05.000Z

struct FakeSink final : EnsSink {
  bool acknowledge = true;
  std::vector<std::vector<Record>> batches;
  std::vector<Clock::time_point> deadlines;
  bool produce_all(const std::vector<Record>& records, Clock::time_point deadline) override {
    batches.push_back(records);
    deadlines.push_back(deadline);
    return acknowledge;
  }
};

struct Fixture {
  FakeSink sink;
  test::FakeClock clock;
  EnsReceiver receiver;
  explicit Fixture(EnsReceiverOptions options = {{kKey}})
      : receiver(std::move(options), sink, clock, [] { return kNowMs; }) {}
  EnsAnswer post(const std::string& body) { return receiver.handle(EnsSignature::sign(kKey, body), body); }
};

std::string event(const std::string& type, const std::string& key, int64_t ts) {
  return R"({"eventCategoryType":"TransactionalSendEvents.)" + type + R"(","timestampUTC":)" + std::to_string(ts) +
         R"(,"info":{"messageKey":")" + key + R"("}})";
}

// A batch body: the events in a JSON array.
std::string batch(std::initializer_list<std::string> events) {
  std::string body("[");
  for (const auto& e : events) body.append(body.size() > 1 ? "," : "").append(e);
  return body.append("]");
}

}  // namespace

TEST_CASE("ens receiver: a signed batch becomes one record per event, keyed by messageKey, 200 once acknowledged") {
  Fixture f;
  const auto answer =
      f.post(batch({event("SmsSent", "mk-1", 1796058245000), event("SmsDelivered", "mk-1", 1796058246000),
                    R"({"eventCategoryType":"EngagementEvents.EmailOpen","info":{"messageKey":"mk-9"}})"}));
  CHECK(answer.status == 200);
  CHECK(answer.body == R"({"received":3})");
  CHECK(answer.produced == 2);
  CHECK(answer.skipped == 1);
  CHECK(answer.event_types ==
        std::vector<std::string>{"TransactionalSendEvents.SmsSent", "TransactionalSendEvents.SmsDelivered"});
  REQUIRE(f.sink.batches.size() == 1);
  const auto& records = f.sink.batches[0];
  REQUIRE(records.size() == 2);
  CHECK(records[0].first == "mk-1");
  CHECK(records[1].second ==
        R"({"version":1,"source":"ens","messageKey":"mk-1","channel":"sms","state":"delivered","final":true,)"
        R"("receivedAt":"2026-11-30T17:09:05.000Z","sfmcTime":"2026-11-30T17:04:06.000Z","sfmc":{)"
        R"("eventCategoryType":"TransactionalSendEvents.SmsDelivered"}})");
  CHECK(f.sink.deadlines[0] == f.clock.current + 2500ms);  // ENS's 3 s, less room for the network
}

TEST_CASE("ens receiver: unsigned, forged, or a signed body changed: 401 and nothing produced") {
  Fixture f;
  const std::string body = batch({event("SmsSent", "mk-1", 1)});
  const std::string signature = EnsSignature::sign(kKey, body);
  const std::string other_key = "b3RoZXIta2V5LTEyMzQ1Njc4OTA=";
  struct Case {
    std::string signature, body, problem;
  };
  const Case cases[] = {
      {"", body, "no x-sfmc-ens-signature header"},
      {EnsSignature::sign(other_key, body), body, "x-sfmc-ens-signature does not sign the body with any key"},
      {signature, batch({event("SmsSent", "mk-2", 1)}), "x-sfmc-ens-signature does not sign the body with any key"},
      {"garbage", body, "x-sfmc-ens-signature does not sign the body with any key"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.signature);
    const auto answer = f.receiver.handle(c.signature, c.body);
    CHECK(answer.status == 401);
    CHECK(answer.body == R"({"error":"signature"})");
    CHECK(answer.problem == c.problem);
  }
  CHECK(f.sink.batches.empty());
}

TEST_CASE("ens receiver: with no key configured (the first set-up), every batch 401, the verification answered") {
  Fixture f(EnsReceiverOptions{});
  auto answer = f.post(batch({event("SmsSent", "mk-1", 1)}));
  CHECK(answer.status == 401);
  CHECK(answer.problem == "no signature key is configured (ens.signature_keys)");
  answer = f.receiver.handle("", R"({"callbackId":"cb-1","verificationKey":"vk-1"})");
  CHECK(answer.status == 200);
  CHECK(answer.verification);
  CHECK(f.sink.batches.empty());
}

TEST_CASE("ens receiver: a signed body that is not a batch: 400 with the reason, nothing produced") {
  Fixture f;
  auto answer = f.post(R"({"events":[]})");
  CHECK(answer.status == 400);
  CHECK(answer.problem == "a signed POST that is not a batch of events: the body is not a JSON array of events");
  answer = f.post("[1]");
  CHECK(answer.status == 400);
  CHECK(answer.problem == "a signed POST that is not a batch of events: event 0 is not a JSON object");
  CHECK(f.sink.batches.empty());
}

TEST_CASE("ens receiver: the verification POST, signed or not, is answered 200 with its pair, nothing produced") {
  Fixture f;
  const std::string body = R"({"callbackId":"cb-1","verificationKey":"vk-9"})";
  for (const std::string& signature : {std::string(), EnsSignature::sign(kKey, body)}) {
    const auto answer = f.receiver.handle(signature, body);
    CHECK(answer.status == 200);
    CHECK(answer.verification);
    CHECK(answer.callback_id == "cb-1");
    CHECK(answer.verification_key == "vk-9");
  }
  CHECK(f.sink.batches.empty());
}

TEST_CASE("ens receiver: Kafka not acknowledging in time is 503; the batch sent again is produced again") {
  Fixture f;
  const std::string body = batch({event("SmsSent", "mk-1", 1)});
  f.sink.acknowledge = false;
  auto answer = f.post(body);
  CHECK(answer.status == 503);
  CHECK(answer.problem == "Kafka did not acknowledge the batch's 1 records in time: ENS will send it again");
  f.sink.acknowledge = true;
  answer = f.post(body);
  CHECK(answer.status == 200);
  CHECK(answer.produced == 1);  // not taken for a repeat: the first try is not on the topic
  CHECK(f.sink.batches.size() == 2);
}

TEST_CASE("ens receiver: repeats are dropped, within a batch and across batches, as long as they are remembered") {
  Fixture f(EnsReceiverOptions{{kKey}, 2500ms, 2});
  auto answer = f.post(batch({event("SmsSent", "mk-1", 1), event("SmsSent", "mk-1", 1)}));
  CHECK(answer.produced == 1);
  CHECK(answer.repeats == 1);
  answer = f.post(batch({event("SmsSent", "mk-1", 1), event("SmsDelivered", "mk-1", 2)}));
  CHECK(answer.produced == 1);  // the delivery only
  CHECK(answer.repeats == 1);
  // Two remembered at most: a third event pushes out the oldest, which then counts as new.
  answer = f.post(batch({event("SmsSent", "mk-2", 3)}));
  CHECK(answer.produced == 1);
  answer = f.post(batch({event("SmsSent", "mk-1", 1)}));
  CHECK(answer.produced == 1);
  CHECK(answer.status == 200);
  // A batch of repeats only is acknowledged without asking Kafka.
  const size_t asked = f.sink.batches.size();
  answer = f.post(batch({event("SmsSent", "mk-1", 1)}));
  CHECK(answer.status == 200);
  CHECK(answer.repeats == 1);
  CHECK(f.sink.batches.size() == asked);
}

TEST_CASE("ens receiver: a signature key that is not base64 is refused at construction, by position") {
  FakeSink sink;
  test::FakeClock clock;
  CHECK_THROWS_WITH_AS(EnsReceiver(EnsReceiverOptions{{kKey, "not base64!"}}, sink, clock, [] { return kNowMs; }),
                       "signature key 2 is not base64 (as SFMC shows it)", std::invalid_argument);
}
