// Test doubles for the seams the library depends on.
#pragma once

#include <deque>
#include <vector>

#include "core/clock.h"
#include "http/transport.h"

namespace sfmc::test {

// Answers with queued responses and records every request.
class FakeTransport final : public HttpTransport {
 public:
  std::vector<HttpRequest> requests;
  std::deque<HttpResponse> responses;

  HttpResponse perform(const HttpRequest& request) override {
    requests.push_back(request);
    if (responses.empty()) return {0, {}, {}, "no response queued"};
    HttpResponse r = responses.front();
    responses.pop_front();
    return r;
  }
};

// Time moves only when slept on; records every sleep.
class FakeClock final : public Clock {
 public:
  time_point current{};
  std::vector<std::chrono::milliseconds> sleeps;
  time_point now() override { return current; }
  void sleep_for(std::chrono::milliseconds d) override {
    sleeps.push_back(d);
    current += d;
  }
};

inline HttpResponse token_response(const std::string& token = "tok-1", int ttl = 1080) {
  return {200,
          R"({"access_token":")" + token + R"(","token_type":"Bearer","expires_in":)" + std::to_string(ttl) +
              R"(,"rest_instance_url":"rest.example.test/"})",
          {},
          {}};
}

}  // namespace sfmc::test
