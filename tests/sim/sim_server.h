// sfmc-sim: a Salesforce Marketing Cloud REST API simulator over real HTTP
// on loopback, for integration tests, the demo, local development and the
// benchmark. It issues OAuth tokens, checks them, validates the five send
// routes the way the seed documents describe, and records what it received.
//
// Routes: POST /v2/token; POST /messaging/v1/{sms|email}/messages/[{key}];
// POST /sms/v1/{messageContact|messageList}/{id}/send; and, for tests only,
// GET /_sim/health, GET|DELETE /_sim/requests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sim_types.h"

namespace sfmc::sim {

class SimServer {
 public:
  using Options = SimOptions;

  explicit SimServer(Options options = {});
  ~SimServer();  // stops the server
  SimServer(const SimServer&) = delete;
  SimServer& operator=(const SimServer&) = delete;

  // Binds (port 0: a free port) and serves on a background thread; returns
  // once connections are accepted. Throws std::runtime_error when the
  // address cannot be bound, std::logic_error when already running.
  void start();
  // Stops accepting and joins the server thread. Idempotent. An idle
  // keep-alive connection can delay it by up to keep_alive_timeout_s.
  void stop();
  bool running() const;

  int port() const;              // the bound port; 0 before start()
  std::string base_url() const;  // "http://127.0.0.1:PORT"

  // Requests answered so far, oldest first, without the /_sim/ routes.
  std::vector<RecordedRequest> requests() const;
  void clear();  // forgets the recorded requests (not tokens or messageKeys)

  // Invalidates every issued token, so the next REST call gets 401.
  void expire_tokens();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sfmc::sim
