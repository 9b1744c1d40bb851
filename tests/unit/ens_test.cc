// Reading SFMC's Event Notification Service: signatures, batches, the
// verification POST.
#include "sfmc/ens.h"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace sfmc;

namespace {

// RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
constexpr const char* kKey = "SmVmZQ==";
constexpr const char* kBody = "what do ya want for nothing?";
constexpr const char* kSignature = "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=";

}  // namespace

TEST_CASE("ens signature: HMAC-SHA256 of the raw body with the decoded key, base64") {
  CHECK(EnsSignature::sign(kKey, kBody) == kSignature);
  EnsSignature check({kKey});
  CHECK(check.verify(kBody, kSignature));
  CHECK_FALSE(check.verify(std::string(kBody) + " ", kSignature));  // one byte more
  CHECK_FALSE(check.verify("What do ya want for nothing?", kSignature));
  CHECK_FALSE(check.verify(kBody, ""));
  CHECK_FALSE(check.verify(kBody, "not base64!"));
  CHECK_FALSE(check.verify(kBody, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEA="));  // last bits differ
  CHECK_FALSE(check.verify(kBody, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTs"));      // truncated
}

TEST_CASE("ens signature: any of several keys signs (rotation); none of them, nothing does") {
  const std::string other = "b3RoZXIta2V5LTEyMzQ1Njc4OTA=";  // "other-key-1234567890"
  EnsSignature both({other, kKey});
  CHECK(both.verify(kBody, kSignature));
  CHECK(both.verify(kBody, EnsSignature::sign(other, kBody)));
  EnsSignature only_other({other});
  CHECK_FALSE(only_other.verify(kBody, kSignature));
  EnsSignature none({});
  CHECK_FALSE(none.verify(kBody, kSignature));
}

TEST_CASE("ens signature: a key that is not base64 is refused by its position, never its value") {
  CHECK_THROWS_WITH_AS(EnsSignature({kKey, "secret-not-base64"}), "signature key 2 is not base64 (as SFMC shows it)",
                       std::invalid_argument);
  CHECK_THROWS_AS(EnsSignature({""}), std::invalid_argument);
}

TEST_CASE("ens batch: transactional SMS and email events become delivery news with their state from the one table") {
  const auto batch = read_ens_batch(R"([
    {"eventCategoryType":"TransactionalSendEvents.SmsDelivered","timestampUTC":1764522245123,"compositeId":"c.1",
     "definitionKey":"order-shipped","mid":"1234","eid":"99",
     "info":{"messageKey":"mk-1","to":"15555550100","subscriberKey":"Astro25"}},
    {"eventCategoryType":"TransactionalSendEvents.SmsBounced","timestampUTC":1764522246000,
     "info":{"messageKey":"mk-2","to":"15555550101","statusCode":4504,"reason":"Unknown Subscriber"}},
    {"eventCategoryType":"TransactionalSendEvents.EmailNotSent","timestampUTC":1764522247000,
     "info":{"messageKey":"mk-3","contactKey":"c-3","statusCode":"16","statusMessage":"InvalidAttributeValue"}},
    {"eventCategoryType":"TransactionalSendEvents.SmsTransient","timestampUTC":1764522248000,
     "info":{"messageKey":"mk-4"}}
  ])");
  REQUIRE(batch.error.empty());
  CHECK(batch.skipped == 0);
  REQUIRE(batch.events.size() == 4);
  const EnsEvent& delivered = batch.events[0];
  CHECK(delivered.event_type == "TransactionalSendEvents.SmsDelivered");
  CHECK(delivered.state == DeliveryState::Delivered);
  CHECK(delivered.channel == "sms");
  CHECK(delivered.message_key == "mk-1");
  CHECK(delivered.to == "15555550100");
  CHECK(delivered.contact_key == "Astro25");
  CHECK(delivered.timestamp_ms == 1764522245123);
  CHECK(delivered.composite_id == "c.1");
  CHECK(delivered.definition_key == "order-shipped");
  CHECK(delivered.mid == "1234");
  CHECK(batch.events[1].state == DeliveryState::Undeliverable);
  CHECK(batch.events[1].status_code == "4504");
  CHECK(batch.events[1].status_message == "Unknown Subscriber");
  CHECK(batch.events[2].state == DeliveryState::NotSent);
  CHECK(batch.events[2].channel == "email");
  CHECK(batch.events[2].contact_key == "c-3");
  CHECK(batch.events[2].status_message == "InvalidAttributeValue");
  CHECK(batch.events[3].state == DeliveryState::Sent);  // an intermediate carrier status
}

TEST_CASE("ens batch: events of other families or without a messageKey are skipped and counted") {
  const auto batch = read_ens_batch(R"([
    {"eventCategoryType":"EngagementEvents.EmailOpen","info":{"messageKey":"mk-1"}},
    {"eventCategoryType":"TransactionalSendEvents.SmsSent","info":{}},
    {"eventCategoryType":"TransactionalSendEvents.PushSent","info":{"messageKey":"mk-2"}},
    {"eventCategoryType":"TransactionalSendEvents.SmsSent","info":{"messageKey":"mk-3"}}
  ])");
  REQUIRE(batch.error.empty());
  CHECK(batch.skipped == 3);
  REQUIRE(batch.events.size() == 1);
  CHECK(batch.events[0].message_key == "mk-3");
  CHECK(read_ens_batch("[]").events.empty());
}

TEST_CASE("ens batch: a body that is not an array of objects says what it is, and yields nothing") {
  CHECK(read_ens_batch("{not json").error == "the body is not JSON");
  CHECK(read_ens_batch(R"({"callbackId":"x"})").error == "the body is not a JSON array of events");
  const auto mixed = read_ens_batch(R"([{"eventCategoryType":"TransactionalSendEvents.SmsSent",
                                        "info":{"messageKey":"mk-1"}}, 7])");
  CHECK(mixed.error == "event 1 is not a JSON object");
  CHECK(mixed.events.empty());
}

TEST_CASE("ens verification: the POST made when a callback is created") {
  auto v = read_ens_verification(R"({"callbackId":"cb-1","verificationKey":"vk-9"})");
  REQUIRE(v);
  CHECK(v->callback_id == "cb-1");
  CHECK(v->verification_key == "vk-9");
  CHECK_FALSE(read_ens_verification(R"({"callbackId":"cb-1"})"));
  CHECK_FALSE(read_ens_verification("[]"));
}

TEST_CASE("ens delivery record: source ens, the messageKey, channel, state, SFMC's words and times") {
  const auto batch = read_ens_batch(R"([
    {"eventCategoryType":"TransactionalSendEvents.SmsBounced","timestampUTC":1796058245123,"compositeId":"c.1",
     "definitionKey":"order-shipped","mid":"1234",
     "info":{"messageKey":"mk-2","to":"15555550101","statusCode":4504,"reason":"Unknown Subscriber"}},
    {"eventCategoryType":"TransactionalSendEvents.EmailSent","info":{"messageKey":"mk-3"}}
  ])");
  REQUIRE(batch.events.size() == 2);
  const std::string bounced = to_json(delivery_record(batch.events[0], 1796058545000));
  CHECK(bounced ==
        R"({"version":1,"source":"ens","messageKey":"mk-2","channel":"sms","state":"undeliverable","final":true,)"
        R"("receivedAt":"2026-11-30T17:09:05.000Z","sfmcTime":"2026-11-30T17:04:05.123Z","sfmc":{)"
        R"("eventCategoryType":"TransactionalSendEvents.SmsBounced","statusCode":"4504",)"
        R"("statusMessage":"Unknown Subscriber","mid":"1234","definitionKey":"order-shipped","compositeId":"c.1"}})");
  const std::string sent = to_json(delivery_record(batch.events[1], 1796058545000));
  CHECK(sent == R"({"version":1,"source":"ens","messageKey":"mk-3","channel":"email","state":"sent","final":false,)"
                R"("receivedAt":"2026-11-30T17:09:05.000Z","sfmc":{"eventCategoryType":)"
                R"("TransactionalSendEvents.EmailSent"}})");  // not final: a bounce may follow
}
