#include <doctest/doctest.h>

#include "sfmc/status.h"

using namespace sfmc;

namespace {

// A deliveries answer as the simulator writes it (tests/sim/sim_status_routes.cc).
std::string deliveries(std::string_view status, std::string_view tracking, std::string_view complete = "") {
  std::string body = R"({"message":"Hi","count":1,"createDate":"2026-11-30T11:04:05.55",)";
  if (!complete.empty()) body += R"("completeDate":")" + std::string(complete) + "\",";
  return body + R"("status":")" + std::string(status) + R"(","tracking":[)" + std::string(tracking) + "]}";
}

std::string row(std::string_view number, std::string_view code, std::string_view standard, std::string_view text,
                std::string_view description) {
  return R"({"mobileNumber":")" + std::string(number) + R"(","statusCode":")" + std::string(code) +
         R"(","message":")" + std::string(text) + R"(","standardStatusCode":")" + std::string(standard) +
         R"(","description":")" + std::string(description) + "\"}";
}

const std::string kDelivered = row("13175551212", "200", "4000", "Carrier Success", "Delivered");
const std::string kEnroute = row("13175551212", "20", "3000", "NA", "Message enroute");

std::optional<std::string> utc(std::string_view cst) { return central_to_utc(cst); }

}  // namespace

TEST_CASE("central time is UTC-6 all year: midnight, year end and leap day roll over") {
  CHECK(utc("2026-03-07T20:30:00") == "2026-03-08T02:30:00.000Z");
  CHECK(utc("2026-12-31T23:59:59.9999999") == "2027-01-01T05:59:59.999Z");
  CHECK(utc("2028-02-28T18:00:00") == "2028-02-29T00:00:00.000Z");
  CHECK(utc("2028-02-29T18:00:00") == "2028-03-01T00:00:00.000Z");
  CHECK(utc("2026-02-28T18:00:00") == "2026-03-01T00:00:00.000Z");
  CHECK(utc("2026-11-30T11:04:05.1234567") == "2026-11-30T17:04:05.123Z");
}

TEST_CASE("central time does not jump at the US daylight saving switches") {
  CHECK(utc("2026-03-08T01:59:59") == "2026-03-08T07:59:59.000Z");
  CHECK(utc("2026-03-08T02:30:00") == "2026-03-08T08:30:00.000Z");  // a local time DST skips
  CHECK(utc("2026-03-08T03:00:00") == "2026-03-08T09:00:00.000Z");
  CHECK(utc("2026-11-01T00:59:59") == "2026-11-01T06:59:59.000Z");
  CHECK(utc("2026-11-01T01:30:00") == "2026-11-01T07:30:00.000Z");  // a local time DST repeats
  CHECK(utc("2026-11-01T02:00:00") == "2026-11-01T08:00:00.000Z");
  CHECK(utc("2026-07-01T12:00:00") == "2026-07-01T18:00:00.000Z");  // summer: still -6
}

TEST_CASE("central time fractions of 1 to 7 digits become exactly 3, truncated") {
  CHECK(utc("2018-08-03T13:41:18.55") == "2018-08-03T19:41:18.550Z");
  CHECK(utc("2018-08-03T13:41:18.5") == "2018-08-03T19:41:18.500Z");
  CHECK(utc("2018-08-03T13:41:18.123") == "2018-08-03T19:41:18.123Z");
  CHECK(utc("2018-08-03T13:41:18.0009") == "2018-08-03T19:41:18.000Z");
}

TEST_CASE("central time refuses zones, missing parts and impossible dates") {
  for (const char* bad : {"", "2026-11-30T11:04:05Z", "2026-11-30T11:04:05-06:00", "2026-11-30T11:04", "2026-11-30",
                          "2026-02-30T10:00:00", "2027-02-29T10:00:00", "2026-04-31T10:00:00", "2026-13-01T00:00:00",
                          "2026-00-10T00:00:00", "2026-11-00T00:00:00", "2026-11-30T24:00:00", "2026-11-30T11:60:00",
                          "2026-11-30T11:04:60", "2026-11-30 11:04:05", "2026-11-30t11:04:05", "2026-11-30T11:04:05.",
                          "2026-11-30T11:04:05.12345678", "2026-11-30T11:04:05.1a", "2026-1-30T11:04:05",
                          "+026-11-30T11:04:05", "9999-12-31T20:00:00"}) {
    CAPTURE(bad);
    CHECK_FALSE(utc(bad).has_value());
  }
}

TEST_CASE("a queued Transactional message is queued, not terminal, with SFMC's time in UTC") {
  auto a = read_message_status(
      200,
      R"({"requestId":"r-1","eventCategoryType":"TransactionalSendEvents.SMSQueued","timestamp":"2026-11-30T11:04:05.1234567"})");
  CHECK(a.error.empty());
  REQUIRE(a.rows.size() == 1);
  CHECK(a.rows[0].state == DeliveryState::Queued);
  CHECK_FALSE(a.rows[0].terminal);
  CHECK(a.rows[0].event_category_type == "TransactionalSendEvents.SMSQueued");
  CHECK(a.rows[0].sfmc_time == "2026-11-30T17:04:05.123Z");
  CHECK(a.rows[0].mobile_number.empty());
}

TEST_CASE("a sent Transactional message is terminal: the messageKey route reports nothing later") {
  auto a = read_message_status(
      200,
      R"({"requestId":"r-2","eventCategoryType":"TransactionalSendEvents.EmailSent","timestamp":"2026-11-30T11:09:05","compositeId":"c","info":{"messageKey":"mk","contactKey":"ck","to":"a@b.c"}})");
  REQUIRE(a.rows.size() == 1);
  CHECK(a.rows[0].state == DeliveryState::Sent);
  CHECK(a.rows[0].terminal);
  CHECK(a.rows[0].status_code.empty());
  CHECK(a.rows[0].sfmc_time == "2026-11-30T17:09:05.000Z");
}

TEST_CASE("a not-sent Transactional message is terminal and keeps SFMC's code and words") {
  auto a = read_message_status(
      200,
      R"({"eventCategoryType":"TransactionalSendEvents.SMSNotSent","timestamp":"bad","info":{"messageKey":"mk","statusCode":1001,"statusMessage":"Subscriber opted out"}})");
  REQUIRE(a.rows.size() == 1);
  CHECK(a.rows[0].state == DeliveryState::NotSent);
  CHECK(a.rows[0].terminal);
  CHECK(a.rows[0].status_code == "1001");
  CHECK(a.rows[0].status_message == "Subscriber opted out");
  CHECK(a.rows[0].sfmc_time.empty());  // an unreadable timestamp is left out
}

TEST_CASE("an unknown event category is unknown, not terminal, with its text kept") {
  auto a = read_message_status(200, R"({"eventCategoryType":"TransactionalSendEvents.SmsUnsubscribed"})");
  REQUIRE(a.rows.size() == 1);
  CHECK(a.rows[0].state == DeliveryState::Unknown);
  CHECK_FALSE(a.rows[0].terminal);
  CHECK(a.rows[0].event_category_type == "TransactionalSendEvents.SmsUnsubscribed");
}

TEST_CASE("message status errors: 404 is not found, 429/5xx/no answer retry, other 4xx do not") {
  auto a = read_message_status(
      404, R"({"message":"No message was sent with this messageKey.","errorcode":30003,"documentation":""})");
  CHECK(a.rows.empty());
  CHECK(a.not_found);
  CHECK_FALSE(a.retry);
  CHECK(a.error == "SFMC does not know this messageKey (404): No message was sent with this messageKey.");
  CHECK(read_message_status(404, "").error == "SFMC does not know this messageKey (404)");

  a = read_message_status(429, R"({"message":"Too many requests. Retry after the given seconds.","errorcode":50100})");
  CHECK(a.retry);
  CHECK_FALSE(a.not_found);
  CHECK(a.error == "SFMC answered HTTP 429: Too many requests. Retry after the given seconds.");
  a = read_message_status(500, "<html>oops</html>");
  CHECK(a.retry);
  CHECK(a.error == "SFMC answered HTTP 500");
  a = read_message_status(0, "");
  CHECK(a.retry);
  CHECK(a.error == "no HTTP answer from SFMC");
  a = read_message_status(401, R"({"message":"Not Authorized","errorcode":0})");
  CHECK_FALSE(a.retry);
  CHECK_FALSE(a.not_found);
  CHECK(a.error == "SFMC answered HTTP 401: Not Authorized");
}

TEST_CASE("an unreadable 200 status answer is retried") {
  auto a = read_message_status(200, "nope");
  CHECK(a.retry);
  CHECK(a.rows.empty());
  CHECK(a.error == "unreadable status answer: not JSON: Invalid value. (at byte 1)");  // "n" could start null
  CHECK(read_message_status(200, "[]").error == "unreadable status answer: not a JSON object");
  CHECK(read_message_status(200, R"({"requestId":"r"})").error == "unreadable status answer: no 'eventCategoryType'");
  CHECK(read_delivery_status(200, R"({"status":"Finished","tracking":{}})").error ==
        "unreadable status answer: 'tracking' is not an array");
  CHECK(read_delivery_status(200, R"({"status":"Finished","tracking":[1]})").error ==
        "unreadable status answer: tracking row 0 is not an object");
}

TEST_CASE("a delivered number is read from the highest code whichever row comes first") {
  for (const auto& tracking : {kDelivered + "," + kEnroute, kEnroute + "," + kDelivered}) {
    CAPTURE(tracking);
    auto a = read_delivery_status(200, deliveries("Finished", tracking, "2026-11-30T11:09:05.1"));
    CHECK(a.error.empty());
    REQUIRE(a.rows.size() == 1);
    const auto& r = a.rows[0];
    CHECK(r.state == DeliveryState::Delivered);
    CHECK(r.terminal);
    CHECK(r.mobile_number == "13175551212");
    CHECK(r.status_code == "200");
    CHECK(r.status_message == "Carrier Success");
    CHECK(r.standard_status_code == "4000");
    CHECK(r.description == "Delivered");
    CHECK(r.send_status == "Finished");
    CHECK(r.sfmc_time == "2026-11-30T17:09:05.100Z");  // completeDate, not createDate
  }
}

TEST_CASE("several numbers each get a row, in order of first appearance") {
  const auto tracking = row("2", "20", "3000", "NA", "Message enroute") + "," +
                        row("1", "500", "4500", "Carrier Failure", "Undeliverable") + "," +
                        row("2", "200", "4000", "Carrier Success", "Delivered") + "," +
                        row("3", "1", "1000", "Queued", "Queued") + "," + row("1", "20", "3000", "NA", "enroute");
  auto a = read_delivery_status(200, deliveries("Finished", tracking));
  REQUIRE(a.rows.size() == 3);
  CHECK(a.rows[0].mobile_number == "2");
  CHECK(a.rows[0].state == DeliveryState::Delivered);
  CHECK(a.rows[1].mobile_number == "1");
  CHECK(a.rows[1].state == DeliveryState::Undeliverable);
  CHECK(a.rows[1].status_message == "Carrier Failure");
  CHECK(a.rows[2].mobile_number == "3");
  CHECK(a.rows[2].state == DeliveryState::Queued);
  CHECK_FALSE(a.rows[2].terminal);
  for (const auto& r : a.rows) CHECK(r.sfmc_time == "2026-11-30T17:04:05.550Z");  // createDate: no completeDate
}

TEST_CASE("every standardStatusCode SFMC documents maps to its state, and the codes between to their band's") {
  struct Case {
    const char* code;
    DeliveryState state;
  };
  const Case cases[] = {
      {"1000", DeliveryState::Queued},        {"1499", DeliveryState::Queued},
      {"1500", DeliveryState::NotSent},       {"1501", DeliveryState::NotSent},  // queue failure, validation error
      {"2000", DeliveryState::Sent},          {"2499", DeliveryState::Sent},
      {"2500", DeliveryState::NotSent},       {"2501", DeliveryState::NotSent},  // failed to / unknown at the aggregator
      {"2502", DeliveryState::NotSent},       {"2600", DeliveryState::NotSent},  // invalid number; throttled
      {"2601", DeliveryState::NotSent},       {"2999", DeliveryState::NotSent},
      {"3000", DeliveryState::Sent},          {"3001", DeliveryState::Sent},
      {"3002", DeliveryState::Sent},          {"3400", DeliveryState::Unknown},  // "Unknown error"
      {"3999", DeliveryState::Unknown},       {"4000", DeliveryState::Delivered},
      {"4499", DeliveryState::Delivered},     {"4500", DeliveryState::Undeliverable},
      {"4501", DeliveryState::Expired},       {"4502", DeliveryState::Undeliverable},
      {"4503", DeliveryState::NotSent},       {"4504", DeliveryState::Undeliverable},
      {"4505", DeliveryState::Undeliverable}, {"4999", DeliveryState::Undeliverable},
      {"5000", DeliveryState::Unknown},       {"999", DeliveryState::Unknown},
      {"abc", DeliveryState::Unknown},        {"", DeliveryState::Unknown},
  };
  for (const auto& c : cases) {
    CAPTURE(c.code);
    auto a = read_delivery_status(200, deliveries("Finished", row("1", "x", c.code, "m", "d")));
    REQUIRE(a.rows.size() == 1);
    CHECK(a.rows[0].state == c.state);
    CHECK(a.rows[0].terminal == is_terminal(c.state));
    CHECK(a.rows[0].standard_status_code == c.code);
  }
  // A code given as a number is read the same way, and an unreadable code ranks below every real one.
  const std::string numeric = R"({"mobileNumber":"1","standardStatusCode":4501})";
  const std::string unreadable = R"({"mobileNumber":"1","standardStatusCode":"n/a"})";
  auto a = read_delivery_status(200, deliveries("Finished", numeric + "," + unreadable));
  REQUIRE(a.rows.size() == 1);
  CHECK(a.rows[0].state == DeliveryState::Expired);
  CHECK(a.rows[0].standard_status_code == "4501");
}

TEST_CASE("a send with no tracked number yet gives one row from the send's status") {
  struct Case {
    const char* status;
    DeliveryState state;
    bool terminal;
  };
  const Case cases[] = {{"New", DeliveryState::Queued, false},     {"Queuing", DeliveryState::Queued, false},
                        {"Started", DeliveryState::Queued, false}, {"Finished", DeliveryState::Unknown, false},
                        {"Error", DeliveryState::NotSent, true},   {"Paused", DeliveryState::Unknown, false}};
  for (const auto& c : cases) {
    CAPTURE(c.status);
    auto a = read_delivery_status(200, deliveries(c.status, ""));
    REQUIRE(a.rows.size() == 1);
    CHECK(a.rows[0].mobile_number.empty());
    CHECK(a.rows[0].state == c.state);
    CHECK(a.rows[0].terminal == c.terminal);
    CHECK(a.rows[0].send_status == c.status);
    CHECK(a.rows[0].sfmc_time == "2026-11-30T17:04:05.550Z");
  }
  auto a = read_delivery_status(200, R"({"status":"Queuing"})");  // no tracking member at all
  REQUIRE(a.rows.size() == 1);
  CHECK(a.rows[0].state == DeliveryState::Queued);
  CHECK(a.rows[0].sfmc_time.empty());
}

TEST_CASE("delivery status errors: an unknown tokenId is not found, other 400s stop, 429/5xx/no answer retry") {
  auto a = read_delivery_status(400, R"({"errors":["Token id c21NCNSDN2sMMWM2miosdjEHH is not valid."]})");
  CHECK(a.rows.empty());
  CHECK(a.not_found);
  CHECK_FALSE(a.retry);
  CHECK(a.error == "Token id c21NCNSDN2sMMWM2miosdjEHH is not valid.");

  a = read_delivery_status(400,
                           R"({"errors":["TokenId t is not valid for MessageId m.","Message id m is not valid."]})");
  CHECK_FALSE(a.not_found);
  CHECK_FALSE(a.retry);
  CHECK(a.error == "TokenId t is not valid for MessageId m.; Message id m is not valid.");
  CHECK(read_delivery_status(400, "").error == "SFMC answered HTTP 400");

  a = read_delivery_status(429, R"({"message":"Your requests are temporarily blocked.","errorcode":50200})");
  CHECK(a.retry);
  CHECK(a.error == "SFMC answered HTTP 429: Your requests are temporarily blocked.");
  a = read_delivery_status(503, R"({"message":"Service temporarily unavailable.","errorcode":50300})");
  CHECK(a.retry);
  CHECK(a.error == "SFMC answered HTTP 503: Service temporarily unavailable.");
  a = read_delivery_status(0, "");
  CHECK(a.retry);
  CHECK(a.error == "no HTTP answer from SFMC");
  a = read_delivery_status(404, R"({"message":"Not Found"})");
  CHECK_FALSE(a.retry);
  CHECK_FALSE(a.not_found);
  CHECK(a.error == "SFMC answered HTTP 404: Not Found");
}

TEST_CASE("Transactional event types, as the status routes and ENS write them, map to states in one table") {
  const std::pair<const char*, DeliveryState> cases[] = {
      {"TransactionalSendEvents.SMSQueued", DeliveryState::Queued},
      {"TransactionalSendEvents.SMSSent", DeliveryState::Sent},
      {"TransactionalSendEvents.SMSNotSent", DeliveryState::NotSent},
      {"TransactionalSendEvents.EmailQueued", DeliveryState::Queued},
      {"TransactionalSendEvents.EmailSent", DeliveryState::Sent},
      {"TransactionalSendEvents.EmailNotSent", DeliveryState::NotSent},
      {"TransactionalSendEvents.SmsSent", DeliveryState::Sent},
      {"TransactionalSendEvents.SmsTransient", DeliveryState::Sent},
      {"TransactionalSendEvents.SmsDelivered", DeliveryState::Delivered},
      {"TransactionalSendEvents.SmsBounced", DeliveryState::Undeliverable},
      {"TransactionalSendEvents.SmsNotSent", DeliveryState::NotSent},
      {"TransactionalSendEvents.EmailBounced", DeliveryState::Undeliverable},
      {"EngagementEvents.EmailOpen", DeliveryState::Unknown},
      {"TransactionalSendEvents.PushSent", DeliveryState::Unknown},
      {"", DeliveryState::Unknown},
  };
  for (const auto& [type, state] : cases) {
    CAPTURE(type);
    CHECK(state_for_event_type(type) == state);
  }
}
