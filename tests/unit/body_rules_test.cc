#include <doctest/doctest.h>

#include "contract/body_rules.h"
#include "contract/event_decoder.h"
#include "core/message_keys.h"

using namespace sfmc;

TEST_CASE("send times are yyyy-MM-dd HH:mm on a real calendar") {
  CHECK(is_valid_send_time("2012-10-05 20:01"));
  CHECK(is_valid_send_time("2024-02-29 00:00"));
  CHECK_FALSE(is_valid_send_time("2023-02-29 00:00"));
  CHECK_FALSE(is_valid_send_time("2012-13-05 20:01"));
  CHECK_FALSE(is_valid_send_time("2012-10-05 24:00"));
  CHECK_FALSE(is_valid_send_time("2012-10-05 20:60"));
  CHECK_FALSE(is_valid_send_time("2012-10-05T20:01"));
  CHECK_FALSE(is_valid_send_time("2012-10-05 20:01:00"));
  CHECK_FALSE(is_valid_send_time("12-10-05 20:01"));
}

TEST_CASE("UTC offsets and window times") {
  CHECK(is_valid_utc_offset("-0500"));
  CHECK(is_valid_utc_offset("+0530"));
  CHECK(is_valid_utc_offset("+1400"));
  CHECK_FALSE(is_valid_utc_offset("0500"));
  CHECK_FALSE(is_valid_utc_offset("-05:00"));
  CHECK_FALSE(is_valid_utc_offset("+1500"));
  CHECK_FALSE(is_valid_utc_offset("+0510"));
  CHECK(is_valid_window_time("2200"));
  CHECK(is_valid_window_time("0000"));
  CHECK_FALSE(is_valid_window_time("2400"));
  CHECK_FALSE(is_valid_window_time("22:00"));
  CHECK_FALSE(is_valid_window_time("1260"));
}

TEST_CASE("nesting is measured outside strings") {
  CHECK_FALSE(nesting_exceeds(R"({"a":[[["[[[[[["]]]})", 4).has_value());
  CHECK(nesting_exceeds(R"({"a":[[[1]]]})", 3) == 7u);
  CHECK_FALSE(nesting_exceeds(R"({"a":"\"[[["})", 1).has_value());
}

TEST_CASE("robust decoding: size, depth, encoding") {
  EventDecoder decoder(DecoderOptions{100, 8});
  InboundEvent e;
  e.input = {"t", 0, 5};
  e.value = std::string(101, ' ');
  Decoded big = decoder.decode(e);
  REQUIRE(std::holds_alternative<InvalidEvent>(big));
  CHECK(std::get<InvalidEvent>(big).errors.at(0).message == "event value is 101 bytes; the limit is 100");

  e.value = std::string(9, '[') + std::string(9, ']');
  Decoded deep = decoder.decode(e);
  REQUIRE(std::holds_alternative<InvalidEvent>(deep));
  CHECK(std::get<InvalidEvent>(deep).errors.at(0).message == "event value nests deeper than 8 levels (at byte 8)");

  e.value = "{\"operation\":\"x\xff\"}";
  Decoded latin = decoder.decode(e);
  REQUIRE(std::holds_alternative<InvalidEvent>(latin));
  CHECK(std::get<InvalidEvent>(latin).errors.at(0).message ==
        "event value is not valid JSON: Invalid encoding in string. (at byte 15)");
}

TEST_CASE("an unknown operation is named with the ones that exist") {
  EventDecoder decoder;
  InboundEvent e;
  e.value = R"({"operation":"transactional.sms.sned","body":{}})";
  Decoded d = decoder.decode(e);
  REQUIRE(std::holds_alternative<InvalidEvent>(d));
  const auto& errors = std::get<InvalidEvent>(d).errors;
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].pointer == "/operation");
  CHECK(errors[0].message.rfind("unknown operation \"transactional.sms.sned\"; expected one of transactional.sms.send, ", 0) == 0);
}

TEST_CASE("found by the fuzzer: NUL bytes and unpaired low surrogates are refused, not passed on") {
  EventDecoder decoder;
  InboundEvent e;
  e.value = std::string(R"({"operation":"transactional.sms.send","id":"x","body":{"definitionKey":"d","recipients":[{"to":"1"}]}})") +
            '\0' + R"({"this is": not JSON)";
  Decoded nul = decoder.decode(e);
  REQUIRE(std::holds_alternative<InvalidEvent>(nul));
  CHECK(std::get<InvalidEvent>(nul).errors.at(0).message == "event value contains a NUL byte (at byte 102)");

  e.value = R"({"operation":"transactional.sms.send","id":"\udc00","body":{"definitionKey":"d","recipients":[{"to":"1"}]}})";
  Decoded lone = decoder.decode(e);
  REQUIRE(std::holds_alternative<InvalidEvent>(lone));
  CHECK(std::get<InvalidEvent>(lone).errors.at(0).message ==
        "event value has an unpaired UTF-16 surrogate escape (at byte 44)");

  CHECK(unpaired_low_surrogate(R"({"a":"\ud41d\ude00"})") == 12u);
  CHECK(unpaired_low_surrogate(R"({"a":"\ud83d\ude00 \\udc00 \"\udc00"})") == 29u);
  CHECK_FALSE(unpaired_low_surrogate(R"({"a":"\ud83d\ude00","b":"\\udc00"})").has_value());
}

TEST_CASE("found by the fuzzer: a derived messageKey never repeats an explicit one") {
  EventDecoder decoder;
  InboundEvent e;
  std::string taken = derived_message_key("order-4711", 1);
  e.value = R"({"operation":"transactional.sms.send","id":"order-4711","body":{"definitionKey":"d","recipients":[{"to":"1","messageKey":")" +
            taken + R"("},{"to":"2"}]}})";
  auto request = std::get<SendRequest>(decoder.decode(e));
  CHECK(request.body.find("\"" + taken + "-1\"") != std::string::npos);
}

TEST_CASE("a repeated member name is refused: readers disagree on which value counts") {
  EventDecoder decoder;
  InboundEvent e;
  e.value = R"({"operation":"transactional.sms.send","body":{"definitionKey":"d","recipients":[{"to":"1","to":"2"}]}})";
  Decoded d = decoder.decode(e);
  REQUIRE(std::holds_alternative<InvalidEvent>(d));
  const auto& errors = std::get<InvalidEvent>(d).errors;
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].pointer == "/body/recipients/0/to");
  CHECK(errors[0].message == "member \"to\" appears more than once");
  CHECK(std::get<InvalidEvent>(d).reason == "not_json");
}

TEST_CASE("repeated members are found in large objects too, each repeat once, with escaped pointers") {
  EventDecoder decoder;
  InboundEvent e;
  std::string attributes;
  for (int i = 0; i < 40; ++i) attributes += "\"k" + std::to_string(i) + "\":\"v\",";
  attributes += R"("a/b":"1","k7":"again","a/b":"2","a/b":"3")";
  e.value = R"({"operation":"transactional.sms.send","body":{"definitionKey":"d","recipients":[{"to":"1"},{"to":"2","attributes":{)" +
            attributes + "}}]}}";
  Decoded d = decoder.decode(e);
  REQUIRE(std::holds_alternative<InvalidEvent>(d));
  const auto& errors = std::get<InvalidEvent>(d).errors;
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].pointer == "/body/recipients/1/attributes/k7");
  CHECK(errors[1].pointer == "/body/recipients/1/attributes/a~1b");
  CHECK(errors[2].pointer == "/body/recipients/1/attributes/a~1b");
  CHECK(errors[1].message == "member \"a/b\" appears more than once");
}

TEST_CASE("found by the fuzzer: nothing inside a repeated member is reported, as its pointer would name the first one") {
  EventDecoder decoder;
  InboundEvent e;
  e.value = R"({"operation":"transactional.sms.send","body":{"definitionKey":"d","recipients":[{"to":"1","attributes":"x","attributes":{"a":1,"a":2}}]}})";
  Decoded d = decoder.decode(e);
  REQUIRE(std::holds_alternative<InvalidEvent>(d));
  const auto& errors = std::get<InvalidEvent>(d).errors;
  REQUIRE(!errors.empty());
  CHECK(errors[0].pointer == "/body/recipients/0/attributes");
  for (const auto& error : errors) CHECK(error.pointer != "/body/recipients/0/attributes/a");
}
