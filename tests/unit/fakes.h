// Test doubles for the seams the library depends on.
#pragma once

#include <cstdio>
#include <deque>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/clock.h"
#include "http/transport.h"
#include "telemetry/log.h"

namespace sfmc::test {

// Holds every started request until the test answers it.
class FakeTransport final : public HttpTransport {
 public:
  struct Open {
    HttpRequest request;
    Callback done;
  };
  std::vector<HttpRequest> started;  // every request, in order
  std::deque<Open> open;             // not answered yet

  void start(HttpRequest request, Callback done) override {
    started.push_back(request);
    open.push_back({std::move(request), std::move(done)});
  }
  void poll(std::chrono::milliseconds) override {}
  size_t in_flight() const override { return open.size(); }
  void watch(int) override {}

  // Answers the oldest open request.
  void answer(HttpResponse response) {
    if (open.empty()) throw std::logic_error("no open request to answer");
    Open o = std::move(open.front());
    open.pop_front();
    o.done(std::move(response));
  }
  bool next_is_token() const { return !open.empty() && open.front().request.url.find("/v2/token") != std::string::npos; }
};

// Time moves only when the test moves it.
class FakeClock final : public Clock {
 public:
  time_point current{std::chrono::hours(1)};
  time_point now() override { return current; }
  void sleep_for(std::chrono::milliseconds d) override { current += d; }
};

// A Logger (at debug) whose lines the test reads back.
class LogCapture {
  std::FILE* file_ = std::tmpfile();  // first: the logger is built with it

 public:
  Logger logger{LogLevel::Debug, file_};

  LogCapture() = default;
  ~LogCapture() { std::fclose(file_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Every line so far, without its timestamp: {"level":...,"msg":...,...}.
  std::vector<std::string> lines() {
    std::fflush(file_);
    std::rewind(file_);
    std::vector<std::string> out;
    std::string line;
    for (int c; (c = std::fgetc(file_)) != EOF;) {
      if (c != '\n') {
        line += static_cast<char>(c);
        continue;
      }
      out.push_back(std::regex_replace(line, std::regex(R"(^\{"ts":"[^"]*",)"), "{"));
      line.clear();
    }
    std::fseek(file_, 0, SEEK_END);  // the logger writes on at the end
    return out;
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
