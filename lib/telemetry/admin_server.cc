#include "telemetry/admin_server.h"

#include <httplib.h>
#include <prometheus/text_serializer.h>

#include <stdexcept>

namespace sfmc {

namespace {

// Why the relay is not ready; empty when it is.
std::string not_ready_because(const Health& health) {
  std::string why;
  if (!health.alive()) why += "loop stalled; ";
  if (!health.assigned) why += "no partitions assigned yet; ";
  if (health.assignment_refused) why += "librdkafka refused the partition assignment (see the log); ";
  if (!health.tokens) why += "no SFMC token yet; ";
  if (!health.brokers_up) {
    std::string problem = health.kafka_problem();
    why += problem.empty() ? "Kafka brokers unreachable; " : "Kafka brokers unreachable: " + problem + "; ";
  }
  return why.empty() ? why : why.substr(0, why.size() - 2);
}

}  // namespace

AdminServer::AdminServer(prometheus::Registry& registry, Health& health)
    : registry_(registry),
      health_(health),
      ready_(prometheus::BuildGauge()
                 .Name("sfmc_relay_ready")
                 .Help("1 while /readyz answers 200 (partitions assigned, tokens held, brokers reachable), else 0")
                 .Register(registry)
                 .Add({})),
      server_(std::make_unique<httplib::Server>()) {
  server_->new_task_queue = [] { return new httplib::ThreadPool(2); };
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    ready_.Set(not_ready_because(health_).empty() ? 1 : 0);  // as /readyz would answer now
    response.set_content(prometheus::TextSerializer().Serialize(registry_.Collect()),
                         "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/healthz", [this](const httplib::Request&, httplib::Response& response) {
    bool alive = health_.alive();
    response.status = alive ? 200 : 503;
    response.set_content(alive ? "ok\n" : "the relay loop has not turned for 10 s\n", "text/plain");
  });
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& response) {
    std::string why = not_ready_because(health_);
    response.status = why.empty() ? 200 : 503;
    response.set_content(why.empty() ? "ready\n" : "not ready: " + why + "\n", "text/plain");
  });
}

AdminServer::~AdminServer() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

void AdminServer::start(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("admin.listen must be host:port, not '" + listen + "'");
  std::string host = listen.substr(0, colon);
  int port = std::atoi(listen.c_str() + colon + 1);
  port_ = port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (port_ <= 0) throw std::runtime_error("cannot listen on " + listen + " (admin.listen)");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

}  // namespace sfmc
