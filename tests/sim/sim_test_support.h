// What the simulator's tests share: a started SimServer with a keep-alive
// client, and JSON helpers.
#pragma once

#include <doctest/doctest.h>
#include <httplib.h>
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "sim_server.h"

namespace sfmc::sim::test {

inline const char* const kSmsBatch = "/messaging/v1/sms/messages/";
inline const char* const kTokenRequest =
    R"({"grant_type":"client_credentials","client_id":"sim-client","client_secret":"sim-secret"})";

inline rapidjson::Document parse(const std::string& text) {
  rapidjson::Document document;
  document.Parse(text.c_str());
  REQUIRE_FALSE(document.HasParseError());
  return document;
}

inline std::string str(const rapidjson::Value& value) { return {value.GetString(), value.GetStringLength()}; }

// A clock the test moves by hand.
struct ManualClock {
  std::shared_ptr<std::atomic<std::int64_t>> millis = std::make_shared<std::atomic<std::int64_t>>(1'700'000'000'000);
  Clock clock() const {
    return [now = millis] { return TimePoint(std::chrono::milliseconds(now->load())); };
  }
  void advance(std::chrono::milliseconds step) const { *millis += step.count(); }
};

// A started simulator and a keep-alive client pointed at it. The client is
// declared second so it disconnects before the server stops.
struct Sim {
  explicit Sim(SimServer::Options options = {}) : server(std::move(options)) {
    server.start();
    client = std::make_unique<httplib::Client>("127.0.0.1", server.port());
    client->set_keep_alive(true);
    client->set_read_timeout(10, 0);
  }

  httplib::Result post(const std::string& path, const std::string& body, const std::string& token = "") {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return client->Post(path.c_str(), headers, body, "application/json");
  }

  httplib::Result get(const std::string& path, const std::string& token = "") {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return client->Get(path.c_str(), headers);
  }

  std::string token() {
    auto result = post("/v2/token", kTokenRequest);
    REQUIRE(result);
    REQUIRE(result->status == 200);
    return str(parse(result->body)["access_token"]);
  }

  SimServer server;
  std::unique_ptr<httplib::Client> client;
};

// Polls `condition` until it holds or `limit` passes; true when it held.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace sfmc::sim::test
