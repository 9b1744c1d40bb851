// Drives SimServer over real HTTP on loopback, as the relay will: tokens,
// the send routes, routing and recording. The other *_test.cc files cover
// the status routes, faults, state and the command line.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sim_test_support.h"

namespace {

using sfmc::sim::SimOptions;
using sfmc::sim::SimServer;
using sfmc::sim::test::kSmsBatch;
using sfmc::sim::test::kTokenRequest;
using sfmc::sim::test::parse;
using sfmc::sim::test::Sim;

bool is_message_key_shaped(const std::string& key) {
  if (key.size() != 22) return false;
  for (char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace

TEST_CASE("token: the configured client gets a Bearer token, its lifetime and the instance URLs") {
  Sim sim;
  auto result = sim.post("/v2/token", kTokenRequest);
  REQUIRE(result);
  CHECK(result->status == 200);
  auto body = parse(result->body);
  CHECK(std::string(body["access_token"].GetString()).size() == 64);
  CHECK(std::string(body["token_type"].GetString()) == "Bearer");
  CHECK(body["expires_in"].GetInt() == 1080);
  CHECK(std::string(body["scope"].GetString()) == "sms_send sms_read email_send email_read");
  CHECK(std::string(body["rest_instance_url"].GetString()) == sim.server.base_url() + "/");
  CHECK(std::string(body["soap_instance_url"].GetString()) == sim.server.base_url() + "/");
  CHECK(sim.server.base_url() == "http://127.0.0.1:" + std::to_string(sim.server.port()));
}

TEST_CASE("token: a wrong secret is 401 invalid_client") {
  Sim sim;
  auto result = sim.post("/v2/token", R"({"grant_type":"client_credentials","client_id":"sim-client","client_secret":"nope"})");
  REQUIRE(result);
  CHECK(result->status == 401);
  CHECK(result->body == R"({"error":"invalid_client","error_description":"Client authentication failed.","error_uri":""})");
}

TEST_CASE("token: another grant_type is 400 unsupported_grant_type, broken JSON 400 invalid_request") {
  Sim sim;
  auto wrong_grant = sim.post("/v2/token", R"({"grant_type":"password","client_id":"sim-client","client_secret":"sim-secret"})");
  REQUIRE(wrong_grant);
  CHECK(wrong_grant->status == 400);
  CHECK(std::string(parse(wrong_grant->body)["error"].GetString()) == "unsupported_grant_type");
  auto broken = sim.post("/v2/token", R"({"grant_type":)");
  REQUIRE(broken);
  CHECK(broken->status == 400);
  CHECK(std::string(parse(broken->body)["error"].GetString()) == "invalid_request");
}

TEST_CASE("auth: a send without a token, or with an unknown one, is 401 Not Authorized") {
  Sim sim;
  const std::string body = R"({"definitionKey":"d","recipients":[{"to":"15555551234"}]})";
  const std::string expected = R"({"documentation":"","errorcode":0,"message":"Not Authorized"})";
  auto without = sim.post(kSmsBatch, body);
  REQUIRE(without);
  CHECK(without->status == 401);
  CHECK(without->body == expected);
  auto unknown = sim.post(kSmsBatch, body, "not-a-token");
  REQUIRE(unknown);
  CHECK(unknown->status == 401);
  CHECK(unknown->body == expected);
}

TEST_CASE("auth: a token stops working once its lifetime has passed, and when expire_tokens() is called") {
  auto now = std::make_shared<std::atomic<std::int64_t>>(1'700'000'000);
  SimServer::Options options;
  options.token_ttl_s = 60;
  options.clock = [now] { return sfmc::sim::TimePoint(std::chrono::seconds(now->load())); };
  Sim sim(options);
  const std::string body = R"({"definitionKey":"d","recipients":[{"to":"15555551234"}]})";

  const std::string token = sim.token();
  *now += 59;
  CHECK(sim.post(kSmsBatch, body, token)->status == 202);
  *now += 1;
  CHECK(sim.post(kSmsBatch, body, token)->status == 401);

  const std::string fresh = sim.token();
  CHECK(sim.post(kSmsBatch, body, fresh)->status == 202);
  sim.server.expire_tokens();
  CHECK(sim.post(kSmsBatch, body, fresh)->status == 401);
}

TEST_CASE("sms batch: 202 with one messageKey per recipient, generated when absent, kept when given") {
  Sim sim;
  auto result = sim.post(kSmsBatch,
                         R"({"definitionKey":"welcome","recipients":[{"to":"15555550001","contactKey":"a"},)"
                         R"({"to":"15555550002","contactKey":"b","messageKey":"given-key-1"},{"to":"15555550003"}]})",
                         sim.token());
  REQUIRE(result);
  CHECK(result->status == 202);
  auto body = parse(result->body);
  const std::string request_id = body["requestId"].GetString();
  CHECK(request_id.size() == 36);
  CHECK(request_id[8] == '-');
  CHECK(request_id[14] == '4');
  CHECK(body["errorcode"].GetInt() == 0);
  CHECK_FALSE(body.HasMember("message"));
  const auto& responses = body["responses"];
  REQUIRE(responses.Size() == 3);
  const std::string first = responses[0]["messageKey"].GetString();
  const std::string third = responses[2]["messageKey"].GetString();
  CHECK(is_message_key_shaped(first));
  CHECK(is_message_key_shaped(third));
  CHECK(first != third);
  CHECK(std::string(responses[1]["messageKey"].GetString()) == "given-key-1");
  for (const auto& response : responses.GetArray()) CHECK_FALSE(response.HasMember("errorcode"));
}

TEST_CASE("sms batch: the trailing slash is optional") {
  Sim sim;
  auto result = sim.post("/messaging/v1/sms/messages", R"({"definitionKey":"d","recipients":[{"to":"1555"}]})", sim.token());
  REQUIRE(result);
  CHECK(result->status == 202);
}

TEST_CASE("sms batch: a messageKey repeated within one request refuses the second recipient with 109110") {
  Sim sim;
  auto result = sim.post(kSmsBatch,
                         R"({"definitionKey":"d","recipients":[{"to":"1555","messageKey":"k1"},{"to":"1556","messageKey":"k1"}]})",
                         sim.token());
  REQUIRE(result);
  CHECK(result->status == 202);
  auto body = parse(result->body);
  CHECK(body["errorcode"].GetInt() == 109001);
  CHECK(std::string(body["message"].GetString()) == "MCMS_UTM_ResponsesHasErrors: 1 subscribers failed to queue out of 2");
  const auto& responses = body["responses"];
  REQUIRE(responses.Size() == 2);
  CHECK(std::string(responses[0]["messageKey"].GetString()) == "k1");
  CHECK_FALSE(responses[0].HasMember("errorcode"));
  CHECK(std::string(responses[1]["messageKey"].GetString()) == "k1");
  CHECK(responses[1]["errorcode"].GetInt() == 109110);
  CHECK(std::string(responses[1]["message"].GetString()) ==
        "MCMS_UTM_Validation_DuplicateMessageKey: messageKey repeated within the request");
}

TEST_CASE("sms batch: a messageKey used by an earlier request is 109110, still 202 when every recipient fails") {
  Sim sim;
  const std::string token = sim.token();
  const std::string body = R"({"definitionKey":"d","recipients":[{"to":"1555","messageKey":"once"}]})";
  CHECK(sim.post(kSmsBatch, body, token)->status == 202);
  auto again = sim.post(kSmsBatch, body, token);
  REQUIRE(again);
  CHECK(again->status == 202);
  auto reply = parse(again->body);
  CHECK(reply["errorcode"].GetInt() == 109001);
  CHECK(std::string(reply["message"].GetString()) == "MCMS_UTM_ResponsesHasErrors: 1 subscribers failed to queue out of 1");
  CHECK(reply["responses"][0]["errorcode"].GetInt() == 109110);
  CHECK(std::string(reply["responses"][0]["message"].GetString()) ==
        "MCMS_UTM_Validation_DuplicateMessageKey: messageKey reused within the past 2 days");
}

TEST_CASE("sms batch: of concurrent requests reusing one messageKey exactly one is accepted") {
  Sim sim;
  const std::string token = sim.token();
  constexpr int kClients = 8;
  std::atomic<int> accepted{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      httplib::Client client("127.0.0.1", sim.server.port());
      auto result = client.Post(kSmsBatch, {{"Authorization", "Bearer " + token}},
                                R"({"definitionKey":"d","recipients":[{"to":"1555","messageKey":"race"}]})", "application/json");
      if (!result || result->status != 202) return;
      const bool ok = result->body.find(R"("errorcode":0)") != std::string::npos;
      (ok ? accepted : refused) += 1;
    });
  }
  for (auto& client : clients) client.join();
  CHECK(accepted == 1);
  CHECK(refused == kClients - 1);
}

TEST_CASE("sms batch: with reject_when_no_valid_recipients an all-invalid send is 400 109103") {
  SimServer::Options options;
  options.reject_when_no_valid_recipients = true;
  Sim sim(options);
  auto result = sim.post(kSmsBatch, R"({"definitionKey":"d","recipients":[{"contactKey":"no-to"}]})", sim.token());
  REQUIRE(result);
  CHECK(result->status == 400);
  CHECK(result->body ==
        R"({"message":"MCMS_UTM_Validation_NoValidSubscribers: no recipient could be queued","errorcode":109103,"documentation":""})");
}

TEST_CASE("sms batch: a recipient without 'to' is refused with 109106, the others queue") {
  Sim sim;
  auto result = sim.post(kSmsBatch, R"({"definitionKey":"d","recipients":[{"contactKey":"x"},{"to":"1555"}]})", sim.token());
  REQUIRE(result);
  CHECK(result->status == 202);
  auto body = parse(result->body);
  CHECK(body["errorcode"].GetInt() == 109001);
  CHECK(body["responses"][0]["errorcode"].GetInt() == 109106);
  CHECK(std::string(body["responses"][0]["message"].GetString()) ==
        "MCMS_UTM_Validation_MissingRequiredField_to: Invalid subscriber");
  CHECK_FALSE(body["responses"][1].HasMember("errorcode"));
}

TEST_CASE("sms batch: 'recipient' is an unknown field there (109122); a missing definitionKey is 109111") {
  Sim sim;
  const std::string token = sim.token();
  auto wrong_shape = sim.post(kSmsBatch, R"({"definitionKey":"d","recipient":{"to":"1555"}})", token);
  REQUIRE(wrong_shape);
  CHECK(wrong_shape->status == 400);
  CHECK(wrong_shape->body ==
        R"({"message":"MCMS_UTM_Validation_UnknownFieldName: recipient","errorcode":109122,"documentation":""})");
  auto no_definition = sim.post(kSmsBatch, R"({"recipients":[{"to":"1555"}]})", token);
  REQUIRE(no_definition);
  CHECK(no_definition->status == 400);
  CHECK(no_definition->body ==
        R"({"message":"MCMS_UTM_Validation_InvalidValue_definitionKey: definitionKey is required","errorcode":109111,"documentation":""})");
  auto empty = sim.post(kSmsBatch, R"({"definitionKey":"d","recipients":[]})", token);
  REQUIRE(empty);
  CHECK(empty->status == 400);
  CHECK(parse(empty->body)["errorcode"].GetInt() == 109102);
}

TEST_CASE("sms single: the messageKey comes from the URL, percent-decoded") {
  Sim sim;
  auto result = sim.post("/messaging/v1/sms/messages/key%2Fwith%20space",
                         R"({"definitionKey":"d","recipient":{"to":"15555551234","contactKey":"c"}})", sim.token());
  REQUIRE(result);
  CHECK(result->status == 202);
  auto body = parse(result->body);
  CHECK(body["errorcode"].GetInt() == 0);
  REQUIRE(body["responses"].Size() == 1);
  CHECK(std::string(body["responses"][0]["messageKey"].GetString()) == "key/with space");
  CHECK(sim.server.requests().back().path == "/messaging/v1/sms/messages/key%2Fwith%20space");
}

TEST_CASE("email batch: contactKey is required (109105) and 2001 recipients are too many (109101)") {
  Sim sim;
  const std::string token = sim.token();
  auto missing = sim.post("/messaging/v1/email/messages/", R"({"definitionKey":"d","recipients":[{"to":"alice@localhost"}]})", token);
  REQUIRE(missing);
  CHECK(missing->status == 202);
  CHECK(parse(missing->body)["responses"][0]["errorcode"].GetInt() == 109105);

  std::string many = R"({"definitionKey":"d","recipients":[)";
  for (int i = 0; i < 2001; ++i) many += std::string(i ? "," : "") + R"({"contactKey":"c)" + std::to_string(i) + R"("})";
  many += "]}";
  auto too_many = sim.post("/messaging/v1/email/messages/", many, token);
  REQUIRE(too_many);
  CHECK(too_many->status == 400);
  CHECK(too_many->body ==
        R"({"message":"MCMS_UTM_Validation_TooManySubscribers: 2001 recipients exceed the limit of 2000","errorcode":109101,"documentation":""})");
}

TEST_CASE("messageContact: PascalCase keys and string booleans are accepted; 202 carries a 25-char tokenId") {
  Sim sim;
  auto result = sim.post("/sms/v1/messageContact/MzA6Nzg6MA/send",
                         R"({"Subscribers":[{"MobileNumber":"15555554410","SubscriberKey":"k1","Attributes":{"FirstName":"M"}}],)"
                         R"("Subscribe":"true","Resubscribe":"true","keyword":"JOINSMS","Override":"false","SendTime":"2012-10-05 20:01"})",
                         sim.token());
  REQUIRE(result);
  CHECK(result->status == 202);
  CHECK(std::string(parse(result->body)["tokenId"].GetString()).size() == 25);
}

TEST_CASE("messageContact: the documented 400 sentences") {
  Sim sim;
  const std::string token = sim.token();
  const std::string path = "/sms/v1/messageContact/MzA6Nzg6MA/send";
  auto hyphens = sim.post(path, R"({"mobileNumbers":["1-317-555-1212"]})", token);
  REQUIRE(hyphens);
  CHECK(hyphens->status == 400);
  CHECK(hyphens->body == R"({"errors":["1-317-555-1212 is not a numeric string"]})");

  auto both = sim.post(path, R"({"mobileNumbers":["13175551212"],"Subscribers":[{"MobileNumber":"1","SubscriberKey":"k"}]})", token);
  REQUIRE(both);
  CHECK(both->body == R"({"errors":["An array of mobile numbers and an array of subscribers cannot be provided at the same time."]})");

  auto neither = sim.post(path, R"({"mobileNumbers":[]})", token);
  REQUIRE(neither);
  CHECK(neither->status == 400);
  CHECK(neither->body == R"({"errors":["The count of mobile numbers or subscribers cannot be zero."]})");

  auto keyword = sim.post(path, R"({"mobileNumbers":["13175551212"],"Subscribe":true})", token);
  REQUIRE(keyword);
  CHECK(keyword->body == R"({"errors":["Keyword cannot be blank when Subscribe or Resubscribe are true."]})");
}

TEST_CASE("messageContact: every finding at once: SFMC's sentences first, then the schema's with their pointer") {
  Sim sim;
  auto result = sim.post("/sms/v1/messageContact/MzA6Nzg6MA/send",
                         R"({"mobileNumbers":[123,"1-2"],"Subscribe":"yes","Foo":1,"SendTime":"2012-13-05 20:01"})",
                         sim.token());
  REQUIRE(result);
  CHECK(result->status == 400);
  CHECK(result->body ==
        R"({"errors":["1-2 is not a numeric string","2012-13-05 20:01 is not a valid send time (yyyy-MM-dd HH:mm).",)"
        R"("/Subscribe: must be one of true, false, \"true\", \"false\"","/mobileNumbers/0: must be of type string",)"
        R"("/Foo: unknown field \"Foo\""]})");
}

TEST_CASE("messageContact and messageList: ids that cannot exist get SFMC's sentences") {
  Sim sim;
  const std::string token = sim.token();
  auto bad_message = sim.post("/sms/v1/messageContact/bad%20id/send", R"({"mobileNumbers":["15555550001"]})", token);
  REQUIRE(bad_message);
  CHECK(bad_message->body == R"({"errors":["Message id bad id is not valid."]})");
  auto bad_list_message = sim.post("/sms/v1/messageList/bad%20id/send", "{}", token);
  REQUIRE(bad_list_message);
  CHECK(bad_list_message->body == R"({"errors":["Message id bad id isn't valid."]})");
  auto bad_lists = sim.post("/sms/v1/messageList/MzA6Nzg6MA/send",
                            R"({"TargetListIds":["no such list"],"OverrideTemplateTargetLists":true,)"
                            R"("ExclusionListIds":["x y"],"OverrideTemplateExclusionLists":true})",
                            token);
  REQUIRE(bad_lists);
  CHECK(bad_lists->body ==
        R"({"errors":["Target list id [no such list] is invalid.","Exclusion list id [x y] is invalid."]})");
  auto not_json = sim.post("/sms/v1/messageList/MzA6Nzg6MA/send", "[]", token);
  REQUIRE(not_json);
  CHECK(not_json->status == 400);
  CHECK(not_json->body == R"({"errors":["The request body must be a JSON object."]})");
}

TEST_CASE("messageList: target lists need OverrideTemplateTargetLists; a valid send is 202") {
  Sim sim;
  const std::string token = sim.token();
  const std::string path = "/sms/v1/messageList/MzA6Nzg6MA/send";
  auto without_override = sim.post(path, R"({"TargetListIds":["123"]})", token);
  REQUIRE(without_override);
  CHECK(without_override->status == 400);
  CHECK(without_override->body == R"({"errors":["TargetListIds isn't applicable when OverrideTemplateTargetLists is false."]})");
  auto valid = sim.post(path, R"({"TargetListIds":["123"],"OverrideTemplateTargetLists":"true"})", token);
  REQUIRE(valid);
  CHECK(valid->status == 202);
}

TEST_CASE("routing: an unknown path is 404, a known path with another method 405 with Allow") {
  Sim sim;
  auto unknown = sim.client->Get("/messaging/v9/nothing");
  REQUIRE(unknown);
  CHECK(unknown->status == 404);
  CHECK(unknown->body == R"({"message":"Not Found","errorcode":0,"documentation":""})");
  auto wrong_method = sim.client->Get(kSmsBatch);
  REQUIRE(wrong_method);
  CHECK(wrong_method->status == 405);
  CHECK(wrong_method->get_header_value("Allow") == "POST");
}

TEST_CASE("recording: every request is kept with lower-cased headers; /_sim/ calls are not; DELETE clears") {
  Sim sim;
  const std::string token = sim.token();
  const std::string body = R"({"definitionKey":"d","recipients":[{"to":"1555"}]})";
  CHECK(sim.post(kSmsBatch, body, token)->status == 202);
  CHECK(sim.client->Get("/_sim/health")->status == 200);

  const auto requests = sim.server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].method == "POST");
  CHECK(requests[0].path == "/v2/token");
  CHECK(requests[0].status == 200);
  CHECK(requests[1].path == kSmsBatch);
  CHECK(requests[1].body == body);
  CHECK(requests[1].status == 202);
  CHECK(requests[1].headers.at("authorization") == "Bearer " + token);
  CHECK(requests[1].headers.at("content-type") == "application/json");
  CHECK(requests[1].headers.count("remote_addr") == 0);  // httplib's own, not sent by the client

  auto listed = sim.client->Get("/_sim/requests");
  REQUIRE(listed);
  auto list = parse(listed->body);
  REQUIRE(list.Size() == 2);
  CHECK(std::string(list[1]["method"].GetString()) == "POST");
  CHECK(std::string(list[1]["path"].GetString()) == kSmsBatch);
  CHECK(std::string(list[1]["body"].GetString()) == body);
  CHECK(std::string(list[1]["headers"]["authorization"].GetString()) == "Bearer " + token);

  CHECK(sim.client->Delete("/_sim/requests")->status == 200);
  CHECK(sim.server.requests().empty());
  sim.server.clear();
  CHECK(sim.server.requests().empty());
}

TEST_CASE("lifecycle: stop() is idempotent and start() can bind again") {
  SimServer server;
  server.start();
  CHECK(server.running());
  CHECK(server.port() > 0);
  server.stop();
  server.stop();
  CHECK_FALSE(server.running());
  server.start();
  httplib::Client client("127.0.0.1", server.port());
  auto health = client.Get("/_sim/health");
  REQUIRE(health);
  CHECK(health->body == R"({"status":"ok"})");
}

TEST_CASE("tls: a certificate that cannot be used is a start error naming both files") {
  SimOptions options;
  options.tls_cert_file = "/nonexistent/sim.pem";
  options.tls_key_file = "/nonexistent/sim.key";
  SimServer server(options);
  CHECK_THROWS_WITH(server.start(), "sfmc-sim: cannot use the TLS certificate /nonexistent/sim.pem with the key "
                                    "/nonexistent/sim.key");
  CHECK_FALSE(server.running());
}

TEST_CASE("token: rest_instance_url can name another host, as SFMC's tenants have") {
  SimOptions options;
  options.rest_instance_url = "https://rest.example.test/";
  SimServer server(options);
  server.start();
  httplib::Client client("127.0.0.1", server.port());
  auto token = client.Post("/v2/token", kTokenRequest, "application/json");
  REQUIRE(token);
  REQUIRE(token->status == 200);
  CHECK(token->body.find(R"("rest_instance_url":"https://rest.example.test/")") != std::string::npos);
}
