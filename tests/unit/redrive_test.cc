#include "pipeline/redrive.h"

#include <doctest/doctest.h>

using namespace sfmc;

namespace {

InboundEvent dead_letter(std::vector<std::pair<std::string, std::string>> extra = {}) {
  InboundEvent e;
  e.input = {"dead", 3, 17};
  e.key = "k";
  e.value = R"({"operation":"transactional.email.send","account":"eu","body":{}})";
  e.timestamp_ms = 1'000'000;
  e.headers = {{"traceparent", "00-abc"},
               {"sfmc-relay-status", "failed"},
               {"sfmc-relay-error", "Your requests are temporarily blocked."},
               {"sfmc-relay-error-code", "50200"},
               {"sfmc-relay-http-status", "429"},
               {"sfmc-relay-event-id", "sends/1/9"},
               {"sfmc-relay-input", "sends.v2/1/9"}};
  for (auto& h : extra) e.headers.push_back(std::move(h));
  return e;
}

}  // namespace

TEST_CASE("a dead letter is read from its headers and its event") {
  std::string why;
  auto letter = read_dead_letter(dead_letter(), why);
  REQUIRE(letter.has_value());
  CHECK(letter->status == "failed");
  CHECK(letter->error == "Your requests are temporarily blocked.");
  CHECK(letter->error_code == 50200);
  CHECK(letter->http_status == 429);
  CHECK(letter->input_topic == "sends.v2");
  CHECK(letter->operation == "transactional.email.send");
  CHECK(letter->account == "eu");
  CHECK(letter->time_ms == 1'000'000);

  InboundEvent broken = dead_letter();
  broken.value = "{not json";
  letter = read_dead_letter(broken, why);
  REQUIRE(letter.has_value());
  CHECK(letter->operation.empty());
  CHECK(letter->account == "default");
}

TEST_CASE("a record without the failure headers is not a dead letter, and says which is missing") {
  InboundEvent plain;
  plain.headers = {{"sfmc-relay-status", "failed"}};
  std::string why;
  CHECK_FALSE(read_dead_letter(plain, why).has_value());
  CHECK(why == "no sfmc-relay-input header");
  plain.headers = {{"sfmc-relay-status", "failed"}, {"sfmc-relay-input", "nowhere"}};
  CHECK_FALSE(read_dead_letter(plain, why).has_value());
  CHECK(why == "sfmc-relay-input is 'nowhere', not topic/partition/offset");
}

TEST_CASE("filters: every one given must match; an error code matches SFMC's code or its HTTP status") {
  std::string why;
  auto letter = *read_dead_letter(dead_letter(), why);
  RedriveFilter f;
  CHECK(f.matches(letter));
  f.statuses = {"invalid"};
  CHECK_FALSE(f.matches(letter));
  f.statuses = {"invalid", "failed"};
  CHECK(f.matches(letter));
  f.error_codes = {50200};
  CHECK(f.matches(letter));
  f.error_codes = {429};
  CHECK(f.matches(letter));
  f.error_codes = {503};
  CHECK_FALSE(f.matches(letter));
  f.error_codes = {};
  f.operations = {"transactional.sms.send"};
  CHECK_FALSE(f.matches(letter));
  f.operations = {};
  f.accounts = {"eu"};
  CHECK(f.matches(letter));
  f.since_ms = 1'000'000;
  f.until_ms = 1'000'001;
  CHECK(f.matches(letter));
  f.until_ms = 1'000'000;  // until is exclusive
  CHECK_FALSE(f.matches(letter));
}

TEST_CASE(
    "a redriven record keeps the producer's headers and the event id, loses the failure headers, says where from") {
  std::string why;
  auto record = dead_letter({{"sfmc-relay-redrive-of", "dead/0/1"}, {"sfmc-relay-redrive-status", "invalid"}});
  auto headers = redriven_headers(record, *read_dead_letter(record, why));
  std::vector<std::pair<std::string, std::string>> expected{{"traceparent", "00-abc"},
                                                            {"sfmc-relay-event-id", "sends/1/9"},
                                                            {"sfmc-relay-redrive-of", "dead/3/17"},
                                                            {"sfmc-relay-redrive-status", "failed"}};
  CHECK(headers == expected);
}
