// The ENS receiver in the daemon: an HTTP(S) listener of its own (not the
// admin endpoint) for SFMC's Event Notification Service, whose POSTs
// EnsReceiver decides and whose delivery records an acknowledging Kafka
// producer writes; with its metrics. See the README, "Delivery status by
// push (ENS)".
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "kafka/acked_producer.h"
#include "pipeline/ens_receiver.h"
#include "telemetry/log.h"

namespace httplib {
class Server;
}
namespace prometheus {
class Registry;
}

namespace sfmc {

struct EnsOptions {
  std::string listen;  // HOST:PORT (port 0: any free one); empty: no receiver
  std::string path = "/sfmc/ens";
  std::string topic;  // the delivery records' topic
  // HTTPS with these PEM files; both empty: plain HTTP (behind a
  // TLS-terminating ingress, as ENS wants https on port 443).
  std::string tls_cert_file;
  std::string tls_key_file;
  size_t max_connections = 16;               // POSTs handled at once
  size_t max_body_bytes = 4 * 1024 * 1024;   // 1,000 events with room; larger: 413
  std::chrono::milliseconds read_timeout{2000};  // headers and body
  EnsReceiverOptions receiver;
  // The account whose token verifies a new callback (the daemon's
  // EnsVerifier); empty: the pair is only logged, for `sfmc-relay ens verify`.
  std::string verify_account;
};

class EnsService {
 public:
  // Throws kafka::PropertyError (producer properties), std::invalid_argument
  // (a signature key) or std::runtime_error (the TLS files).
  EnsService(EnsOptions options, kafka::Properties producer_properties, prometheus::Registry& registry, Logger& log,
             kafka::AckedProducer::LogHook kafka_log);
  ~EnsService();  // stops listening, waits for the POSTs in progress
  EnsService(const EnsService&) = delete;
  EnsService& operator=(const EnsService&) = delete;

  // Binds and serves on threads of its own; throws std::runtime_error when
  // the address cannot be bound.
  void start();
  int port() const { return port_; }

  // Called with each verification pair after it is answered (set before start).
  using VerificationHook = std::function<void(const std::string& callback_id, const std::string& verification_key)>;
  void on_verification(VerificationHook hook) { on_verification_ = std::move(hook); }

 private:
  class Metrics;
  class Sink;

  EnsOptions options_;
  Logger& log_;
  kafka::AckedProducer producer_;
  std::unique_ptr<Sink> sink_;
  SystemClock clock_;
  EnsReceiver receiver_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  VerificationHook on_verification_;
};

}  // namespace sfmc
