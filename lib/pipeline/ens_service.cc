#include "pipeline/ens_service.h"

#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <mutex>
#include <stdexcept>

#include "core/civil_time.h"

namespace sfmc {

// What the receiver did, by answer, event type, repeat and record.
class EnsService::Metrics {
 public:
  explicit Metrics(prometheus::Registry& registry)
      : posts_(prometheus::BuildCounter()
                   .Name("sfmc_relay_ens_posts_total")
                   .Help("ENS POSTs by answer: ok, verification, bad_signature, malformed, unavailable (503)")
                   .Register(registry)),
        events_(prometheus::BuildCounter()
                    .Name("sfmc_relay_ens_events_total")
                    .Help("Transactional events in signed ENS batches, by event type")
                    .Register(registry)),
        repeats_(prometheus::BuildCounter()
                     .Name("sfmc_relay_ens_repeats_total")
                     .Help("ENS events dropped as repeats of events already produced")
                     .Register(registry)
                     .Add({})),
        records_(prometheus::BuildCounter()
                     .Name("sfmc_relay_ens_records_total")
                     .Help("Delivery records produced from ENS events, acknowledged by Kafka")
                     .Register(registry)
                     .Add({})),
        answer_(prometheus::BuildHistogram()
                    .Name("sfmc_relay_ens_answer_seconds")
                    .Help("Time from an ENS POST's body read to its answer")
                    .Register(registry)
                    .Add({}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                                     2.5, 5})) {
    for (const char* answer : {"ok", "verification", "bad_signature", "malformed", "unavailable"})
      by_answer_[answer] = &posts_.Add({{"answer", answer}});
  }

  void answered(const EnsAnswer& a, double seconds) {
    const char* answer = a.verification ? "verification"
                         : a.status == 401 ? "bad_signature"
                         : a.status == 400 ? "malformed"
                         : a.status == 503 ? "unavailable"
                                           : "ok";
    by_answer_.at(answer)->Increment();
    answer_.Observe(seconds);
    if (a.status == 200) {
      repeats_.Increment(static_cast<double>(a.repeats));
      records_.Increment(static_cast<double>(a.produced));
    }
    std::lock_guard lock(mutex_);
    for (const auto& type : a.event_types) {
      auto it = by_type_.find(type);
      // The label's values stay bounded: SFMC's transactional types only.
      if (it == by_type_.end() && by_type_.size() < 32) it = by_type_.emplace(type, &events_.Add({{"type", type}})).first;
      if (it != by_type_.end()) it->second->Increment();
    }
  }

 private:
  prometheus::Family<prometheus::Counter>& posts_;
  prometheus::Family<prometheus::Counter>& events_;
  prometheus::Counter& repeats_;
  prometheus::Counter& records_;
  prometheus::Histogram& answer_;
  std::map<std::string, prometheus::Counter*> by_answer_;
  std::mutex mutex_;
  std::map<std::string, prometheus::Counter*> by_type_;
};

// The records go to the delivery topic through the acknowledging producer.
class EnsService::Sink final : public EnsSink {
 public:
  Sink(kafka::AckedProducer& producer, std::string topic) : producer_(producer), topic_(std::move(topic)) {}
  bool produce_all(const std::vector<Record>& records, Clock::time_point deadline) override {
    std::string error;
    return producer_.produce_all(topic_, records, deadline, error);
  }

 private:
  kafka::AckedProducer& producer_;
  std::string topic_;
};

namespace {

std::unique_ptr<httplib::Server> make_server(const EnsOptions& options) {
  if (options.tls_cert_file.empty() && options.tls_key_file.empty()) return std::make_unique<httplib::Server>();
  auto server = std::make_unique<httplib::SSLServer>(options.tls_cert_file.c_str(), options.tls_key_file.c_str());
  if (!server->is_valid())
    throw std::runtime_error("ens: cannot use the TLS certificate " + options.tls_cert_file + " with the key " +
                             options.tls_key_file);
  return server;
}

// At most one warning a kind per this long: a flood of bad POSTs must not
// flood the log (the metrics count every one).
constexpr auto kWarnEvery = std::chrono::seconds(30);

}  // namespace

EnsService::EnsService(EnsOptions options, kafka::Properties producer_properties, prometheus::Registry& registry,
                       Logger& log, kafka::AckedProducer::LogHook kafka_log)
    : options_(std::move(options)),
      log_(log),
      producer_(std::move(producer_properties), std::move(kafka_log)),
      sink_(std::make_unique<Sink>(producer_, options_.topic)),
      receiver_(options_.receiver, *sink_, clock_, unix_ms_now),
      metrics_(std::make_unique<Metrics>(registry)),
      server_(make_server(options_)) {
  const auto threads = std::max<size_t>(1, options_.max_connections);
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_payload_max_length(options_.max_body_bytes);
  const auto timeout = std::chrono::duration_cast<std::chrono::microseconds>(options_.read_timeout);
  server_->set_read_timeout(timeout.count() / 1000000, timeout.count() % 1000000);
  server_->set_write_timeout(timeout.count() / 1000000, timeout.count() % 1000000);
  server_->set_keep_alive_timeout(5);
  auto last_warned = std::make_shared<std::array<std::chrono::steady_clock::time_point, 3>>();
  auto warn_mutex = std::make_shared<std::mutex>();
  server_->Post(options_.path, [this, last_warned, warn_mutex](const httplib::Request& request,
                                                              httplib::Response& response) {
    const auto start = std::chrono::steady_clock::now();
    EnsAnswer answer = receiver_.handle(request.get_header_value("x-sfmc-ens-signature"), request.body);
    response.status = answer.status;
    response.set_content(answer.body, "application/json");
    metrics_->answered(answer, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (answer.verification) {
      log_.info(on_verification_ ? "ENS callback verification: verifying it (ens.verify_account)"
                                 : "ENS callback verification: run `sfmc-relay ens verify` with this pair",
                {{"callbackId", answer.callback_id}, {"verificationKey", answer.verification_key}});
      if (on_verification_) on_verification_(answer.callback_id, answer.verification_key);
    } else if (!answer.problem.empty()) {
      const size_t kind = answer.status == 401 ? 0 : answer.status == 400 ? 1 : 2;
      std::lock_guard lock(*warn_mutex);
      if (start - (*last_warned)[kind] >= kWarnEvery) {
        (*last_warned)[kind] = start;
        log_.warn("ENS POST refused", {{"status", answer.status}, {"error", answer.problem},
                                       {"from", request.remote_addr}});
      }
    }
  });
  const auto not_allowed = [](const httplib::Request&, httplib::Response& response) {
    response.status = 405;
    response.set_header("Allow", "POST");
  };
  server_->Get(options_.path, not_allowed);
  server_->Put(options_.path, not_allowed);
  server_->Delete(options_.path, not_allowed);
  server_->Patch(options_.path, not_allowed);
}

EnsService::~EnsService() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

void EnsService::start() {
  const auto colon = options_.listen.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("ens.listen must be host:port, not '" + options_.listen + "'");
  const std::string host = options_.listen.substr(0, colon);
  const int port = std::atoi(options_.listen.c_str() + colon + 1);
  port_ = port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (port_ <= 0) throw std::runtime_error("cannot listen on " + options_.listen + " (ens.listen)");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

}  // namespace sfmc
