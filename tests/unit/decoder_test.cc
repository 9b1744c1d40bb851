#include <doctest/doctest.h>

#include <algorithm>

#include "contract/event_decoder.h"
#include "core/message_keys.h"

using namespace sfmc;

namespace {

InboundEvent event(std::string value) {
  InboundEvent e;
  e.input = {"sends", 2, 41};
  e.value = std::move(value);
  return e;
}

}  // namespace

TEST_CASE("a well-formed event becomes a send request with the body unchanged") {
  EventDecoder decoder;
  auto decoded = decoder.decode(event(
      R"({"operation":"transactional.sms.sendOne","id":"e-1","account":"eu","messageKey":"k 1","body":{"definitionKey":"d","recipient":{"to":"15555551234"}}})"));
  auto* request = std::get_if<SendRequest>(&decoded);
  REQUIRE(request != nullptr);
  CHECK(request->id == "e-1");
  CHECK(request->account == "eu");
  CHECK(request->operation == Operation::TransactionalSmsSendOne);
  CHECK(request->path_parameter == "k 1");
  CHECK(request->body == R"({"definitionKey":"d","recipient":{"to":"15555551234"}})");
}

TEST_CASE("defaults: id from the input coordinates, account 'default'") {
  EventDecoder decoder;
  auto decoded = decoder.decode(
      event(R"({"operation":"transactional.sms.send","body":{"definitionKey":"d","recipients":[{"to":"15555551234"}]}})"));
  auto* request = std::get_if<SendRequest>(&decoded);
  REQUIRE(request != nullptr);
  CHECK(request->id == "sends/2/41");
  CHECK(request->account == "default");
}

TEST_CASE("a redriven event keeps the id its dead letter carried; a failed one may have been sent") {
  EventDecoder decoder;
  auto e = event(R"({"operation":"transactional.sms.send","body":{"definitionKey":"d","recipients":[{"to":"15555551234"}]}})");
  e.headers = {{"sfmc-relay-event-id", "sends/0/7"}, {"sfmc-relay-redrive-of", "dead/0/3"},
               {"sfmc-relay-redrive-status", "failed"}};
  auto decoded = decoder.decode(e);
  auto* request = std::get_if<SendRequest>(&decoded);
  REQUIRE(request != nullptr);
  CHECK(request->id == "sends/0/7");
  CHECK(request->may_have_been_sent);
  CHECK(request->body.find(derived_key_prefix("sends/0/7")) != std::string::npos);

  e.headers = {{"sfmc-relay-event-id", "sends/0/7"}, {"sfmc-relay-redrive-status", "invalid"}};
  decoded = decoder.decode(e);
  request = std::get_if<SendRequest>(&decoded);
  REQUIRE(request != nullptr);
  CHECK_FALSE(request->may_have_been_sent);

  // An event's own id wins.
  e.value = R"({"id":"mine","operation":"transactional.sms.send","body":{"definitionKey":"d","recipients":[{"to":"15555551234"}]}})";
  decoded = decoder.decode(e);
  request = std::get_if<SendRequest>(&decoded);
  REQUIRE(request != nullptr);
  CHECK(request->id == "mine");
}

TEST_CASE("a value that is not JSON is invalid with the parser's reason and position") {
  EventDecoder decoder;
  auto decoded = decoder.decode(event("not json"));
  auto* invalid = std::get_if<InvalidEvent>(&decoded);
  REQUIRE(invalid != nullptr);
  CHECK(invalid->id == "sends/2/41");
  REQUIRE(invalid->errors.size() == 1);
  CHECK(invalid->errors[0].message == "event value is not valid JSON: Invalid value. (at byte 1)");
}

TEST_CASE("every envelope problem is reported, each with its pointer") {
  EventDecoder decoder;
  auto decoded = decoder.decode(event(R"({"operation":"sms","id":7,"body":[],"extra":true})"));
  auto* invalid = std::get_if<InvalidEvent>(&decoded);
  REQUIRE(invalid != nullptr);
  std::vector<std::string> pointers;
  for (const auto& e : invalid->errors) pointers.push_back(e.pointer);
  CHECK(std::find(pointers.begin(), pointers.end(), "/operation") != pointers.end());
  CHECK(std::find(pointers.begin(), pointers.end(), "/id") != pointers.end());
  CHECK(std::find(pointers.begin(), pointers.end(), "/body") != pointers.end());
  CHECK(invalid->errors.size() >= 4);  // operation, id, body, additional property
  for (const auto& e : invalid->errors) CHECK_FALSE(e.message.empty());
}

TEST_CASE("a missing operation is named") {
  EventDecoder decoder;
  auto decoded = decoder.decode(event(R"({"body":{}})"));
  auto* invalid = std::get_if<InvalidEvent>(&decoded);
  REQUIRE(invalid != nullptr);
  REQUIRE(invalid->errors.size() == 1);
  CHECK(invalid->errors[0].message.find("operation") != std::string::npos);
  CHECK(invalid->errors[0].pointer == "");
}

TEST_CASE("path parameters must match the operation") {
  EventDecoder decoder;
  auto missing = decoder.decode(event(R"({"operation":"mobileconnect.messageList.send","body":{}})"));
  auto* invalid = std::get_if<InvalidEvent>(&missing);
  REQUIRE(invalid != nullptr);
  REQUIRE(invalid->errors.size() == 1);
  CHECK(invalid->errors[0].message == "mobileconnect.messageList.send needs \"messageId\" (its path parameter)");

  auto extra = decoder.decode(event(
      R"({"operation":"transactional.sms.send","messageKey":"k","body":{"definitionKey":"d","recipients":[{"to":"1"}]}})"));
  invalid = std::get_if<InvalidEvent>(&extra);
  REQUIRE(invalid != nullptr);
  REQUIRE(invalid->errors.size() == 1);
  CHECK(invalid->errors[0].pointer == "/messageKey");
  CHECK(invalid->errors[0].message == "\"messageKey\" is not a path parameter of transactional.sms.send");
}

TEST_CASE("recipients without a messageKey get one derived from the event id and position, stable across decodes") {
  EventDecoder decoder;
  std::string value =
      R"({"operation":"transactional.email.send","id":"order-1","body":{"definitionKey":"d","recipients":[{"contactKey":"a","to":"a@localhost"},{"contactKey":"b","messageKey":"mine"},{"contactKey":"c"}]}})";
  auto first = std::get<SendRequest>(decoder.decode(event(value)));
  auto second = std::get<SendRequest>(decoder.decode(event(value)));
  CHECK(first.body == second.body);
  std::string k0 = derived_message_key("order-1", 0), k2 = derived_message_key("order-1", 2);
  CHECK(k0.size() == 34);
  CHECK(k0 != derived_message_key("order-2", 0));
  CHECK(first.body == R"({"definitionKey":"d","recipients":[{"contactKey":"a","to":"a@localhost","messageKey":")" + k0 +
                          R"("},{"contactKey":"b","messageKey":"mine"},{"contactKey":"c","messageKey":")" + k2 + R"("}]})");
}

TEST_CASE("deriving keys can be turned off: the body then goes out exactly as received") {
  EventDecoder decoder(DecoderOptions{1024 * 1024, 64, false});
  auto request = std::get<SendRequest>(decoder.decode(
      event(R"({"operation":"transactional.sms.send","id":"x","body":{"definitionKey":"d","recipients":[{"to":"1"}]}})")));
  CHECK(request.body == R"({"definitionKey":"d","recipients":[{"to":"1"}]})");
}

TEST_CASE("Transactional sends are taken apart for merging: shared members, recipients with their keys") {
  EventDecoder decoder;
  auto one = decoder.decode(event(
      R"({"operation":"transactional.sms.sendOne","id":"e-1","messageKey":"k\"1","body":{"definitionKey":"d","recipient":{"to":"15555551234","attributes":{"a":1}},"content":{"message":"hi"}}})"));
  auto* request = std::get_if<SendRequest>(&one);
  REQUIRE(request != nullptr);
  REQUIRE(request->mergeable);
  CHECK(request->mergeable->route == Operation::TransactionalSmsSend);
  CHECK(request->mergeable->shared == R"("definitionKey":"d","content":{"message":"hi"})");
  CHECK(request->mergeable->recipients ==
        std::vector<std::string>{R"({"messageKey":"k\"1","to":"15555551234","attributes":{"a":1}})"});
  CHECK(request->mergeable->message_keys == std::vector<std::string>{"k\"1"});

  auto many = decoder.decode(event(
      R"({"operation":"transactional.email.send","id":"e-2","body":{"definitionKey":"d","recipients":[{"contactKey":"a","to":"a@example.test","messageKey":"x"},{"contactKey":"b","to":"b@example.test"}]}})"));
  request = std::get_if<SendRequest>(&many);
  REQUIRE(request != nullptr);
  REQUIRE(request->mergeable);
  CHECK(request->mergeable->route == Operation::TransactionalEmailSend);
  CHECK(request->mergeable->shared == R"("definitionKey":"d")");
  std::string derived = derived_message_key("e-2", 1);
  CHECK(request->mergeable->recipients == std::vector<std::string>{R"({"contactKey":"a","to":"a@example.test","messageKey":"x"})",
                                                                   R"({"contactKey":"b","to":"b@example.test","messageKey":")" + derived + "\"}"});
  CHECK(request->mergeable->message_keys == std::vector<std::string>{"x", derived});
}

TEST_CASE("not mergeable: MobileConnect, a recipient without a key to map answers by, merging not wanted") {
  auto no_key = R"({"operation":"transactional.sms.send","body":{"definitionKey":"d","recipients":[{"to":"15555551234"}]}})";
  DecoderOptions without_derived;
  without_derived.derive_message_keys = false;
  EventDecoder plain(without_derived);
  auto decoded = plain.decode(event(no_key));
  REQUIRE(std::get_if<SendRequest>(&decoded) != nullptr);
  CHECK_FALSE(std::get<SendRequest>(decoded).mergeable);

  DecoderOptions unwanted;
  unwanted.prepare_merging = false;
  EventDecoder off(unwanted);
  decoded = off.decode(event(no_key));
  CHECK_FALSE(std::get<SendRequest>(decoded).mergeable);

  EventDecoder decoder;
  decoded = decoder.decode(event(
      R"({"operation":"mobileconnect.messageContact.send","messageId":"MTA6Nzg6MA","body":{"mobileNumbers":["15555551234"],"Subscribe":true,"Resubscribe":true,"keyword":"JOIN"}})"));
  auto* request = std::get_if<SendRequest>(&decoded);
  REQUIRE(request != nullptr);
  CHECK_FALSE(request->mergeable);
}
