#include "sim_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

#include "sim_context.h"
#include "sim_fault_glue.h"
#include "sim_fault_plan.h"
#include "sim_json.h"
#include "sim_router.h"
#include "sim_routes.h"
#include "sim_state.h"

namespace sfmc::sim {
namespace {

constexpr std::string_view kInspectionPrefix = "/_sim/";
constexpr const char* kJsonContentType = "application/json; charset=utf-8";

bool is_inspection(const httplib::Request& request) {
  return raw_path(request.target).substr(0, kInspectionPrefix.size()) == kInspectionPrefix;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Names httplib adds to Request::headers itself; a client never sent them.
bool is_httplib_pseudo_header(const std::string& lower_name) {
  return lower_name == "remote_addr" || lower_name == "remote_port" || lower_name == "local_addr" ||
         lower_name == "local_port";
}

// httplib listens with a backlog of 5: a client pool opening dozens of
// connections at once would overflow it and wait out 1 s SYN retransmits.
// Calling listen() again on the bound socket only raises the backlog.
struct Backlog : httplib::Server {
  static bool widen(httplib::Server& server) { return ::listen(server.*(&Backlog::svr_sock_), SOMAXCONN) == 0; }
};

// Plain HTTP, or HTTPS with the options' certificate and key.
std::unique_ptr<httplib::Server> make_server(const SimOptions& options) {
  if (options.tls_cert_file.empty() && options.tls_key_file.empty()) return std::make_unique<httplib::Server>();
  auto server = std::make_unique<httplib::SSLServer>(options.tls_cert_file.c_str(), options.tls_key_file.c_str());
  if (!server->is_valid())
    throw std::runtime_error("sfmc-sim: cannot use the TLS certificate " + options.tls_cert_file + " with the key " +
                             options.tls_key_file);
  return server;
}

}  // namespace

class SimServer::Impl {
 public:
  explicit Impl(Options options)
      : options_(std::move(options)),
        clock_(options_.clock ? options_.clock : Clock([] { return std::chrono::system_clock::now(); })),
        ids_(options_.random_seed),
        message_keys_(options_.message_key_window, options_.max_message_keys),
        log_(options_.max_recorded_requests),
        statuses_(options_.max_status_records),
        faults_(options_.faults, options_.random_seed),
        ens_(options_.ens.callback_url.empty() ? nullptr : std::make_unique<EnsFeed>(options_.ens)),
        context_{options_, clock_, tokens_, message_keys_, ids_, contract_, statuses_, stats_, ens_.get(),
                 &ens_registry_} {
    ens_registry_.feed_defaults = options_.ens;  // delays, CA, repeats for the subscriptions' feeds
    add_sfmc_routes(router_, context_);
    add_inspection_routes(router_, InspectionState{context_, log_, faults_});
    stats_.set_routes(router_.names());
  }

  ~Impl() { stop(); }

  void start() {
    if (http_) throw std::logic_error("sfmc-sim: already running");
    auto http = make_server(options_);
    configure(*http);
    const int port = options_.port == 0 ? http->bind_to_any_port(options_.host)
                                        : (http->bind_to_port(options_.host, options_.port) ? options_.port : -1);
    if (port <= 0 || !Backlog::widen(*http)) {
      throw std::runtime_error("sfmc-sim: cannot bind " + options_.host + ":" + std::to_string(options_.port));
    }
    stop_.clear();
    listen_returned_ = false;
    http_ = std::move(http);
    port_ = port;
    thread_ = std::thread([this] {
      http_->listen_after_bind();
      listen_returned_ = true;
    });
    // httplib's stop() is a no-op until the accept loop runs, so wait for it;
    // the socket already listens, so this takes microseconds.
    while (!http_->is_running() && !listen_returned_) std::this_thread::sleep_for(std::chrono::microseconds(100));
    if (!http_->is_running()) {
      stop();
      throw std::runtime_error("sfmc-sim: the accept loop did not start");
    }
  }

  void stop() {
    if (!http_) return;
    stop_.raise();  // ends injected latencies and stalls, so the workers can be joined
    http_->stop();
    if (thread_.joinable()) thread_.join();
    http_.reset();
  }

  bool running() const { return http_ != nullptr; }
  int port() const { return port_; }

  std::string base_url() const {
    // A wildcard address is not something a client can connect to.
    const bool wildcard = options_.host == "0.0.0.0" || options_.host == "::" || options_.host.empty();
    const std::string host = wildcard ? std::string("127.0.0.1") : options_.host;
    const bool ipv6 = host.find(':') != std::string::npos;
    return (options_.tls_cert_file.empty() ? "http://" : "https://") + (ipv6 ? "[" + host + "]" : host) + ":" +
           std::to_string(port_);
  }

  std::vector<RecordedRequest> requests() const { return log_.snapshot(); }
  void clear() { log_.clear(); }
  void expire_tokens() { tokens_.expire_all(); }
  void set_faults(FaultConfig faults) { faults_.configure(std::move(faults)); }
  std::string set_faults_json(std::string_view json) { return apply_faults_json(json, faults_, context_); }
  FaultConfig faults() const { return faults_.config(); }
  StatsSnapshot stats() const { return collect_stats(context_, faults_); }
  void reset_stats() { sfmc::sim::reset_stats(context_, faults_); }

 private:
  void configure(httplib::Server& http) {
    const auto threads = static_cast<std::size_t>(std::max(1, options_.worker_threads));
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http.set_keep_alive_max_count(options_.keep_alive_max_requests);
    http.set_keep_alive_timeout(options_.keep_alive_timeout_s);
    http.set_tcp_nodelay(true);  // small JSON replies must not wait for Nagle
    http.set_payload_max_length(options_.max_body_bytes);
    http.set_exception_handler([](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
      response.status = 500;
      response.set_content(json::rest_error(0, "Internal error"), kJsonContentType);
    });
    // One catch-all per method: the Router decides 404 versus 405, and
    // httplib has read the body before these run.
    const auto serve = [this](const httplib::Request& request, httplib::Response& response) {
      this->serve(request, response);
    };
    http.Get(".*", serve);
    http.Post(".*", serve);
    http.Put(".*", serve);
    http.Patch(".*", serve);
    http.Delete(".*", serve);
    http.Options(".*", serve);
  }

  void serve(const httplib::Request& request, httplib::Response& response) {
    Router::Match match = router_.match(request);
    std::optional<Reply> reply;
    // A send's place among the calls in progress, held through the latency,
    // the handling and any connection fault, and given back when serve()
    // returns by whatever path, just before httplib writes the reply: a
    // client that has read its response always finds the place free again.
    std::optional<CapacityGate::Permit> permit;
    std::string processed;  // what a partial fault cut short
    const bool send = !match.refusal && router_.scope(match.route) == FaultScope::kSend;
    if (send) permit = faults_.capacity().try_enter(std::chrono::steady_clock::now());
    if (match.refusal) {
      reply = std::move(match.refusal);
    } else if (send && !permit) {
      // Over capacity: answered at once, before the token check, with no
      // latency, fault roll or processing.
      stats_.count_fault("capacity");
      reply = fault_reply(FaultAction{FaultKind::kBlocked, 0}, 0);
    } else {
      const FaultDecision decision = faults_.decide(router_.scope(match.route));
      if (decision.delay.count() > 0) {
        stats_.count_fault("latency");
        stop_.sleep_for(decision.delay);
      }
      reply = decision.action ? inject(*decision.action, decision, match, request, processed)
                              : router_.run(match, request);
    }
    const int status = reply ? reply->status : 0;
    if (reply) {
      response.status = reply->status;
      for (const auto& [name, value] : reply->headers) response.set_header(name, value);
      response.set_content(reply->body, kJsonContentType);
    } else {
      response.status = 500;  // never sent: the connection is gone
    }
    if (is_inspection(request)) return;
    stats_.count_request(match.refusal ? stats_.unmatched_route() : match.route, status);
    if (log_.enabled() || options_.on_request) record(request, status, reply ? reply->body : processed);
  }

  // The reply a fault answers with, or nullopt when it ended the connection
  // without one. "reset" and "timeout" drop the request unprocessed;
  // "partial" processes it, so the client cannot know whether it counted.
  std::optional<Reply> inject(const FaultAction& action, const FaultDecision& decision, const Router::Match& match,
                              const httplib::Request& request, std::string& processed) {
    stats_.count_fault(fault_name(action));
    if (fault_status(action) != 0) return fault_reply(action, decision.retry_after_s);
    const int socket = find_request_socket(request.remote_addr, request.remote_port, request.local_port);
    if (socket < 0) return Reply{500, json::rest_error(0, "sfmc-sim: the connection to fault was not found"), {}};
    switch (action.kind) {
      case FaultKind::kReset: reset_connection(socket); break;
      case FaultKind::kTimeout:
        stop_.wait_for_peer_close(socket, decision.stall);
        close_connection(socket);
        break;
      default: {  // kPartial
        Reply whole = router_.run(match, request);
        processed = whole.body;
        if (!options_.tls_cert_file.empty()) {  // no way into the TLS stream here: the connection just ends
          reset_connection(socket);
          break;
        }
        send_all(socket, partial_response(whole, kJsonContentType));
        if (decision.partial_stalls) stop_.wait_for_peer_close(socket, decision.stall);
        close_connection(socket);
        break;
      }
    }
    return std::nullopt;
  }

  void record(const httplib::Request& request, int status, const std::string& answer) {
    RecordedRequest recorded;
    recorded.method = request.method;
    const std::string_view target = request.target;
    recorded.path = raw_path(target);
    if (recorded.path.size() < target.size()) recorded.query = target.substr(recorded.path.size() + 1);
    for (const auto& [name, value] : request.headers) {
      std::string lower_name = lower(name);
      if (is_httplib_pseudo_header(lower_name)) continue;
      auto [entry, inserted] = recorded.headers.try_emplace(std::move(lower_name), value);
      if (!inserted) entry->second += ", " + value;
    }
    recorded.body = request.body;
    recorded.time = clock_();
    recorded.status = status;
    recorded.response = answer;
    if (options_.on_request) options_.on_request(recorded);
    log_.append(std::move(recorded));
  }

  Options options_;
  Clock clock_;
  IdGenerator ids_;
  TokenStore tokens_;
  MessageKeyRegistry message_keys_;
  RequestLog log_;
  BodyContract contract_;
  StatusStore statuses_;
  SimStats stats_;
  FaultPlan faults_;
  StopSignal stop_;
  std::unique_ptr<EnsFeed> ens_;
  EnsRegistry ens_registry_;
  SimContext context_;
  Router router_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
  int port_ = 0;
};

SimServer::SimServer(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
SimServer::~SimServer() = default;
void SimServer::start() { impl_->start(); }
void SimServer::stop() { impl_->stop(); }
bool SimServer::running() const { return impl_->running(); }
int SimServer::port() const { return impl_->port(); }
std::string SimServer::base_url() const { return impl_->base_url(); }
std::vector<RecordedRequest> SimServer::requests() const { return impl_->requests(); }
void SimServer::clear() { impl_->clear(); }
void SimServer::expire_tokens() { impl_->expire_tokens(); }
void SimServer::set_faults(FaultConfig faults) { impl_->set_faults(std::move(faults)); }
std::string SimServer::set_faults_json(std::string_view json) { return impl_->set_faults_json(json); }
FaultConfig SimServer::faults() const { return impl_->faults(); }
void SimServer::clear_faults() { impl_->set_faults(FaultConfig{}); }
StatsSnapshot SimServer::stats() const { return impl_->stats(); }
void SimServer::reset_stats() { impl_->reset_stats(); }

}  // namespace sfmc::sim
