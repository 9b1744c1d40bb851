// The status routes: messageKey lookups and MobileConnect deliveries.
#include "sim_status_routes.h"
#include "sim_test_support.h"

namespace {

using namespace sfmc::sim;
using namespace sfmc::sim::test;
using namespace std::chrono_literals;

const std::string kContactPath = "/sms/v1/messageContact/MzA6Nzg6MA";
const std::string kListPath = "/sms/v1/messageList/MzA6Nzg6MA";

// 2023-11-14T22:13:20Z, the ManualClock's start.
SimServer::Options clocked(const ManualClock& clock) {
  SimServer::Options options;
  options.clock = clock.clock();
  return options;
}

}  // namespace

TEST_CASE("status time: US Central Standard Time all year, no zone, .NET fraction without trailing zeros") {
  using std::chrono::milliseconds;
  CHECK(central_standard_time(TimePoint(milliseconds(1533325278550))) == "2018-08-03T13:41:18.55");  // July: still UTC-6
  CHECK(central_standard_time(TimePoint(milliseconds(1700000000000))) == "2023-11-14T16:13:20");
  CHECK(central_standard_time(TimePoint(std::chrono::microseconds(1700000000123456))) == "2023-11-14T16:13:20.123456");
  CHECK(central_standard_time(TimePoint(milliseconds(0))) == "1969-12-31T18:00:00");
}

TEST_CASE("message status: an accepted SMS is SMSSent with its compositeId, contactKey and number") {
  ManualClock clock;
  Sim sim(clocked(clock));
  const std::string token = sim.token();
  auto sent = sim.post(kSmsBatch,
                       R"({"definitionKey":"d","recipients":[{"to":"15555550001","contactKey":"c1","messageKey":"m-1"},)"
                       R"({"to":"15555550002","contactKey":"c2","messageKey":"m-2"}]})",
                       token);
  REQUIRE(sent);
  const std::string send_request_id = str(parse(sent->body)["requestId"]);
  clock.advance(5s);

  auto status = sim.get("/messaging/v1/sms/messages/m-2", token);
  REQUIRE(status);
  CHECK(status->status == 200);
  auto body = parse(status->body);
  CHECK(str(body["requestId"]).size() == 36);
  CHECK(str(body["requestId"]) != send_request_id);
  CHECK(str(body["eventCategoryType"]) == "TransactionalSendEvents.SMSSent");
  CHECK(str(body["timestamp"]) == "2023-11-14T16:13:20");
  CHECK(str(body["compositeId"]) == send_request_id + ".2");
  CHECK(str(body["info"]["messageKey"]) == "m-2");
  CHECK(str(body["info"]["contactKey"]) == "c2");
  CHECK(str(body["info"]["to"]) == "15555550002");
  CHECK(body["info"].MemberCount() == 3);
}

TEST_CASE("message status: email keys answer on the email route only; unknown and refused keys are 404") {
  Sim sim;
  const std::string token = sim.token();
  sim.post("/messaging/v1/email/messages/e-1", R"({"definitionKey":"d","recipient":{"contactKey":"c","to":"a@localhost"}})",
           token);
  sim.post(kSmsBatch, R"({"definitionKey":"d","recipients":[{"contactKey":"no-number","messageKey":"refused"}]})", token);

  auto email = sim.get("/messaging/v1/email/messages/e-1", token);
  REQUIRE(email);
  CHECK(email->status == 200);
  CHECK(str(parse(email->body)["eventCategoryType"]) == "TransactionalSendEvents.EmailSent");
  CHECK(str(parse(email->body)["info"]["to"]) == "a@localhost");

  const std::string not_found = R"({"message":"No message was sent with this messageKey.","errorcode":30003,"documentation":""})";
  for (const char* path : {"/messaging/v1/sms/messages/e-1", "/messaging/v1/sms/messages/never", "/messaging/v1/sms/messages/refused"}) {
    CAPTURE(path);
    auto missing = sim.get(path, token);
    REQUIRE(missing);
    CHECK(missing->status == 404);
    CHECK(missing->body == not_found);
  }
  CHECK(sim.get("/messaging/v1/email/messages/e-1")->status == 401);
}

TEST_CASE("message status: a generated messageKey can be looked up too") {
  Sim sim;
  const std::string token = sim.token();
  auto sent = sim.post(kSmsBatch, R"({"definitionKey":"d","recipients":[{"to":"15555550001"}]})", token);
  const std::string key = str(parse(sent->body)["responses"][0]["messageKey"]);
  CHECK(sim.get("/messaging/v1/sms/messages/" + key, token)->status == 200);
}

TEST_CASE("message status: SMSQueued until status_delay has passed, then SMSSent at accepted + delay") {
  ManualClock clock;
  auto options = clocked(clock);
  options.status_delay = 2000ms;
  Sim sim(options);
  const std::string token = sim.token();
  sim.post("/messaging/v1/sms/messages/q-1", R"({"definitionKey":"d","recipient":{"to":"15555550001"}})", token);
  clock.advance(1999ms);
  auto queued = parse(sim.get("/messaging/v1/sms/messages/q-1", token)->body);
  CHECK(str(queued["eventCategoryType"]) == "TransactionalSendEvents.SMSQueued");
  CHECK(str(queued["timestamp"]) == "2023-11-14T16:13:20");
  CHECK_FALSE(queued.HasMember("info"));
  clock.advance(1ms);
  auto sent = parse(sim.get("/messaging/v1/sms/messages/q-1", token)->body);
  CHECK(str(sent["eventCategoryType"]) == "TransactionalSendEvents.SMSSent");
  CHECK(str(sent["timestamp"]) == "2023-11-14T16:13:22");
}

TEST_CASE("message status: only the newest max_status_records are kept") {
  SimServer::Options options;
  options.max_status_records = 3;
  Sim sim(options);
  const std::string token = sim.token();
  for (int i = 1; i <= 5; ++i) {
    sim.post("/messaging/v1/sms/messages/k" + std::to_string(i), R"({"definitionKey":"d","recipient":{"to":"1555"}})", token);
  }
  for (int i = 1; i <= 5; ++i) {
    CAPTURE(i);
    CHECK(sim.get("/messaging/v1/sms/messages/k" + std::to_string(i), token)->status == (i <= 2 ? 404 : 200));
  }
  CHECK(sim.server.stats().message_records == 3);
}

TEST_CASE("deliveries: a messageContact send reports every number it was sent to, Finished") {
  ManualClock clock;
  Sim sim(clocked(clock));
  const std::string token = sim.token();
  auto sent = sim.post(kContactPath + "/send",
                       R"({"mobileNumbers":["15555550001","15555550002"],"override":true,"messageText":"Hi"})", token);
  REQUIRE(sent);
  REQUIRE(sent->status == 202);
  const std::string token_id = str(parse(sent->body)["tokenId"]);

  auto delivery = sim.get(kContactPath + "/deliveries/" + token_id, token);
  REQUIRE(delivery);
  CHECK(delivery->status == 200);
  auto body = parse(delivery->body);
  CHECK(str(body["message"]) == "Hi");
  CHECK(body["count"].GetInt() == 2);
  CHECK(str(body["createDate"]) == "2023-11-14T16:13:20");
  CHECK(str(body["completeDate"]) == "2023-11-14T16:13:20");
  CHECK(str(body["status"]) == "Finished");
  const auto& tracking = body["tracking"];
  REQUIRE(tracking.Size() == 4);
  CHECK(str(tracking[0]["mobileNumber"]) == "15555550001");
  CHECK(str(tracking[0]["standardStatusCode"]) == "4000");  // the final state arrives first
  CHECK(str(tracking[1]["standardStatusCode"]) == "3000");
  CHECK(str(tracking[1]["statusCode"]) == "20");
  CHECK(str(tracking[1]["message"]) == "NA");
  CHECK(str(tracking[1]["description"]) == "Message enroute");
  CHECK(str(tracking[3]["mobileNumber"]) == "15555550002");
}

TEST_CASE("deliveries: Queuing without tracking until status_delay has passed; subscribers' numbers count") {
  ManualClock clock;
  auto options = clocked(clock);
  options.status_delay = 1000ms;
  Sim sim(options);
  const std::string token = sim.token();
  auto sent = sim.post(kContactPath + "/send",
                       R"({"Subscribers":[{"MobileNumber":"15555550009","SubscriberKey":"s9"}]})", token);
  const std::string path = kContactPath + "/deliveries/" + str(parse(sent->body)["tokenId"]);
  auto queued = parse(sim.get(path, token)->body);
  CHECK(str(queued["status"]) == "Queuing");
  CHECK_FALSE(queued.HasMember("completeDate"));
  CHECK(queued["tracking"].Size() == 0);
  CHECK(str(queued["message"]) == "Message MzA6Nzg6MA");
  clock.advance(1000ms);
  auto finished = parse(sim.get(path, token)->body);
  CHECK(str(finished["status"]) == "Finished");
  CHECK(str(finished["completeDate"]) == "2023-11-14T16:13:21");
  REQUIRE(finished["tracking"].Size() == 2);
  CHECK(str(finished["tracking"][0]["mobileNumber"]) == "15555550009");
}

TEST_CASE("deliveries: a messageList send has no known numbers; its tokenId is bound to its route and message") {
  Sim sim;
  const std::string token = sim.token();
  auto sent = sim.post(kListPath + "/send", R"({"TargetListIds":["MTox"],"OverrideTemplateTargetLists":true})", token);
  REQUIRE(sent);
  REQUIRE(sent->status == 202);
  const std::string token_id = str(parse(sent->body)["tokenId"]);
  auto list = parse(sim.get(kListPath + "/deliveries/" + token_id, token)->body);
  CHECK(list["count"].GetInt() == 0);
  CHECK(str(list["status"]) == "Finished");

  auto other_route = sim.get(kContactPath + "/deliveries/" + token_id, token);
  REQUIRE(other_route);
  CHECK(other_route->status == 400);
  CHECK(other_route->body == R"({"errors":["TokenId )" + token_id + R"( is not valid for MessageId MzA6Nzg6MA."]})");
  auto other_message = sim.get("/sms/v1/messageList/OTHER/deliveries/" + token_id, token);
  CHECK(other_message->body == R"({"errors":["TokenId )" + token_id + R"( is not valid for MessageId OTHER."]})");
}

TEST_CASE("deliveries: SFMC's 400 sentences for an unknown tokenId and a malformed message id") {
  Sim sim;
  const std::string token = sim.token();
  auto unknown = sim.get(kContactPath + "/deliveries/NoSuchToken", token);
  REQUIRE(unknown);
  CHECK(unknown->status == 400);
  CHECK(unknown->body == R"({"errors":["Token id NoSuchToken is not valid."]})");
  auto malformed = sim.get("/sms/v1/messageContact/bad%20id/deliveries/NoSuchToken", token);
  REQUIRE(malformed);
  CHECK(malformed->status == 400);
  CHECK(malformed->body == R"({"errors":["Message id bad id is not valid."]})");
}

TEST_CASE("deliveries: only the newest max_status_records sends are kept") {
  SimServer::Options options;
  options.max_status_records = 2;
  Sim sim(options);
  const std::string token = sim.token();
  std::vector<std::string> token_ids;
  for (int i = 0; i < 3; ++i) {
    token_ids.push_back(str(parse(sim.post(kContactPath + "/send", R"({"mobileNumbers":["15555550001"]})", token)->body)["tokenId"]));
  }
  CHECK(sim.get(kContactPath + "/deliveries/" + token_ids[0], token)->status == 400);
  CHECK(sim.get(kContactPath + "/deliveries/" + token_ids[1], token)->status == 200);
  CHECK(sim.get(kContactPath + "/deliveries/" + token_ids[2], token)->status == 200);
  CHECK(sim.server.stats().delivery_records == 2);
}
