// sfmc-sim: a Salesforce Marketing Cloud REST API simulator over real HTTP
// on loopback, for integration tests, the demo, local development and the
// benchmark. It issues OAuth tokens, checks them, validates the five send
// routes the way the seed documents describe (MobileConnect through the
// relay's own contract code), answers the status lookups, injects faults on
// demand, counts, and records what it received. README.md lists the routes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sim_fault_config.h"
#include "sim_stats.h"
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
  std::string base_url() const;  // "http://127.0.0.1:PORT" ("https://..." with a TLS certificate)

  // Requests answered so far, oldest first, without the /_sim/ routes.
  std::vector<RecordedRequest> requests() const;
  void clear();  // forgets the recorded requests (not tokens or messageKeys)

  // Invalidates every issued token, so the next REST call gets 401.
  void expire_tokens();

  // The faults in force (as PUT /_sim/faults): set_faults replaces them,
  // clear_faults removes them all. set_faults_json takes the JSON document
  // and returns "" or why it was refused.
  void set_faults(FaultConfig faults);
  std::string set_faults_json(std::string_view json);
  FaultConfig faults() const;
  void clear_faults();

  // What GET /_sim/stats reports; reset_stats() zeroes the counters.
  StatsSnapshot stats() const;
  void reset_stats();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sfmc::sim
