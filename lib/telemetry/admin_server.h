// The admin HTTP endpoint: /metrics (Prometheus text format), /healthz (the
// loop turns), /readyz (in the group, tokens held, brokers reachable).
#pragma once

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <thread>

#include "telemetry/health.h"

namespace httplib {
class Server;
}

namespace sfmc {

class AdminServer {
 public:
  AdminServer(prometheus::Registry& registry, Health& health);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // "host:port" (port 0: any free port). Throws std::runtime_error when the
  // address cannot be bound.
  void start(const std::string& listen);
  int port() const { return port_; }

 private:
  prometheus::Registry& registry_;
  Health& health_;
  prometheus::Gauge& ready_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace sfmc
