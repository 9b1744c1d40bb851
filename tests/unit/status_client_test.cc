#include <doctest/doctest.h>

#include <algorithm>

#include "fakes.h"
#include "sfmc/status_client.h"

using namespace sfmc;
using namespace std::chrono_literals;

namespace {

std::map<std::string, AccountConfig> accounts() {
  return {{"default", AccountConfig{"default", "https://auth.example.test/", "id", "secret", 42, std::nullopt, 0, 1}}};
}

StatusCheck sms(const std::string& key) {
  StatusCheck c;
  c.id = "e1";
  c.operation = "transactional.sms.send";
  c.account = "default";
  c.message_key = key;
  return c;
}

const HttpResponse kSent{200,
                         R"({"requestId":"r","eventCategoryType":"TransactionalSendEvents.SMSSent",)"
                         R"("timestamp":"2026-11-30T11:00:00","info":{"messageKey":"k"}})",
                         {},
                         {}};

}  // namespace

TEST_CASE("status routes: the messageKey route per channel, MobileConnect's deliveries route, segments encoded") {
  auto check = sms("a/b c");
  CHECK(StatusClient::path(check) == "/messaging/v1/sms/messages/a%2Fb%20c");
  check.operation = "transactional.email.send";
  CHECK(StatusClient::path(check) == "/messaging/v1/email/messages/a%2Fb%20c");
  StatusCheck mc;
  mc.operation = "mobileconnect.messageList.send";
  mc.message_id = "MzA6Nzg6MA";
  mc.token_id = "tok";
  CHECK(StatusClient::path(mc) == "/sms/v1/messageList/MzA6Nzg6MA/deliveries/tok");
  mc.operation = "mobileconnect.messageContact.send";
  CHECK(StatusClient::path(mc) == "/sms/v1/messageContact/MzA6Nzg6MA/deliveries/tok");
}

AccessToken token(const std::string& value, Clock::time_point now) {
  return {value, "https://rest.example.test", now + 15min, now + 18min};
}

bool has_header(const HttpRequest& request, const std::string& header) {
  return std::find(request.headers.begin(), request.headers.end(), header) != request.headers.end();
}

TEST_CASE("status lookups: the sends' token, asked for when missing; GETs within the rate and max_in_flight") {
  test::FakeTransport transport;
  test::FakeClock clock;
  TokenShelf tokens;
  StatusClient client(accounts(), transport, clock, tokens, {/*max_requests_per_second=*/2, /*max_in_flight=*/2});
  std::vector<StatusAnswer> answers;
  for (int i = 0; i < 5; ++i) client.lookup(sms("k" + std::to_string(i)), [&](StatusAnswer a) { answers.push_back(a); });
  client.poll();
  CHECK(transport.started.empty());  // no token of its own
  std::string refused = "x";
  CHECK(tokens.take_want("default", refused));
  CHECK(refused.empty());
  tokens.put("default", token("tok-1", clock.now()));
  client.poll();
  // A bucket of one at 2/s: one now, the next in 500 ms.
  REQUIRE(transport.open.size() == 1);
  CHECK(transport.open.front().request.method == "GET");
  CHECK(transport.open.front().request.url == "https://rest.example.test/messaging/v1/sms/messages/k0");
  CHECK(has_header(transport.open.front().request, "Authorization: Bearer tok-1"));
  REQUIRE(client.next_wakeup());
  CHECK(*client.next_wakeup() - clock.now() == 500ms);
  clock.current += 500ms;
  client.poll();
  CHECK(transport.open.size() == 2);
  clock.current += 500ms;
  client.poll();
  CHECK(transport.open.size() == 2);  // max_in_flight
  transport.answer(kSent);
  REQUIRE(answers.size() == 1);
  CHECK(answers[0].rows.at(0).state == DeliveryState::Sent);
  client.poll();
  CHECK(transport.open.size() == 2);
  CHECK(client.waiting() == 2);
  CHECK_FALSE(tokens.take_want("default", refused));  // the token is good: nothing asked
}

TEST_CASE("status lookups: a 401 asks for another token than the refused one, and asks SFMC once more") {
  test::FakeTransport transport;
  test::FakeClock clock;
  TokenShelf tokens;
  tokens.put("default", token("old", clock.now()));
  StatusClient client(accounts(), transport, clock, tokens, {0, 2});
  std::vector<StatusAnswer> answers;
  client.lookup(sms("k"), [&](StatusAnswer a) { answers.push_back(a); });
  client.poll();
  REQUIRE(transport.open.size() == 1);
  transport.answer({401, R"({"message":"Not Authorized","errorcode":0})", {}, {}});
  CHECK(answers.empty());
  std::string refused;
  REQUIRE(tokens.take_want("default", refused));
  CHECK(refused == "old");
  client.poll();
  CHECK(transport.open.empty());  // not with the refused token
  tokens.put("default", token("new", clock.now()));
  client.poll();
  REQUIRE(transport.open.size() == 1);
  CHECK(has_header(transport.open.front().request, "Authorization: Bearer new"));
  transport.answer({401, R"({"message":"Not Authorized","errorcode":0})", {}, {}});
  REQUIRE(answers.size() == 1);  // not twice: it answers
  CHECK_FALSE(answers[0].retry);
  CHECK(answers[0].rows.empty());

  auto other = sms("k");
  other.account = "elsewhere";
  client.lookup(other, [&](StatusAnswer a) { answers.push_back(a); });
  REQUIRE(answers.size() == 2);
  CHECK(answers[1].error == "account 'elsewhere' is not configured");
}
