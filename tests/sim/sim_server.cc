#include "sim_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <thread>
#include <utility>

#include "sim_auth.h"
#include "sim_context.h"
#include "sim_json.h"
#include "sim_mobileconnect.h"
#include "sim_router.h"
#include "sim_state.h"
#include "sim_transactional.h"

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

// "2024-05-01T12:34:56.789Z"
std::string iso8601(TimePoint time) {
  const auto since_epoch = time.time_since_epoch();
  const std::time_t seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const auto length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + length, sizeof text - length, ".%03dZ", static_cast<int>(millis));
  return text;
}

std::string requests_json(const std::vector<RecordedRequest>& requests) {
  json::Writer out;
  out.begin_array();
  for (const auto& request : requests) {
    out.begin_object().str_field("method", request.method).str_field("path", request.path);
    out.str_field("query", request.query).key("headers").begin_object();
    for (const auto& [name, value] : request.headers) out.str_field(name, value);
    out.end_object().str_field("body", request.body).str_field("time", iso8601(request.time));
    out.int_field("status", request.status).end_object();
  }
  return out.end_array().text();
}

// Names httplib adds to Request::headers itself; a client never sent them.
bool is_httplib_pseudo_header(const std::string& lower_name) {
  return lower_name == "remote_addr" || lower_name == "remote_port" || lower_name == "local_addr" ||
         lower_name == "local_port";
}

// httplib listens with a backlog of 5: a client pool opening dozens of
// connections at once would overflow it and wait out 1 s SYN retransmits.
// Calling listen() again on the bound socket only raises the backlog.
class HttpServer : public httplib::Server {
 public:
  bool widen_backlog() { return ::listen(svr_sock_, SOMAXCONN) == 0; }
};

}  // namespace

class SimServer::Impl {
 public:
  explicit Impl(Options options)
      : options_(std::move(options)),
        clock_(options_.clock ? options_.clock : Clock([] { return std::chrono::system_clock::now(); })),
        ids_(options_.random_seed),
        message_keys_(options_.message_key_window),
        log_(options_.max_recorded_requests),
        context_{options_, clock_, tokens_, message_keys_, ids_} {
    register_routes();
  }

  ~Impl() { stop(); }

  void start() {
    if (http_) throw std::logic_error("sfmc-sim: already running");
    auto http = std::make_unique<HttpServer>();
    configure(*http);
    const int port = options_.port == 0 ? http->bind_to_any_port(options_.host)
                                        : (http->bind_to_port(options_.host, options_.port) ? options_.port : -1);
    if (port <= 0 || !http->widen_backlog()) {
      throw std::runtime_error("sfmc-sim: cannot bind " + options_.host + ":" + std::to_string(options_.port));
    }
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
    return "http://" + (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port_);
  }

  std::vector<RecordedRequest> requests() const { return log_.snapshot(); }
  void clear() { log_.clear(); }
  void expire_tokens() { tokens_.expire_all(); }

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

  Router::Handler authed(Router::Handler inner) {
    return [this, inner = std::move(inner)](const httplib::Request& request, const PathParams& params) {
      if (auto denied = check_bearer(request, context_)) return *std::move(denied);
      return inner(request, params);
    };
  }

  void register_routes() {
    auto& ctx = context_;
    router_.add("POST", "/v2/token", [&ctx](const auto& request, const auto&) { return issue_token(request, ctx); });
    for (const auto& [prefix, channel] : {std::pair{"/messaging/v1/sms/messages", Channel::kSms},
                                          std::pair{"/messaging/v1/email/messages", Channel::kEmail}}) {
      const Channel route_channel = channel;
      router_.add("POST", prefix, authed([&ctx, route_channel](const auto& request, const auto&) {
                    return send_batch(request, route_channel, ctx);
                  }));
      router_.add("POST", std::string(prefix) + "/{messageKey}",
                  authed([&ctx, route_channel](const auto& request, const auto& params) {
                    return send_single(request, route_channel, params[0], ctx);
                  }));
    }
    router_.add("POST", "/sms/v1/messageContact/{id}/send", authed([&ctx](const auto& request, const auto& params) {
                  return send_message_contact(request, params[0], ctx);
                }));
    router_.add("POST", "/sms/v1/messageList/{id}/send", authed([&ctx](const auto& request, const auto& params) {
                  return send_message_list(request, params[0], ctx);
                }));
    router_.add("GET", "/_sim/health", [](const auto&, const auto&) { return Reply{200, R"({"status":"ok"})", {}}; });
    router_.add("GET", "/_sim/requests",
                [this](const auto&, const auto&) { return Reply{200, requests_json(log_.snapshot()), {}}; });
    router_.add("DELETE", "/_sim/requests", [this](const auto&, const auto&) {
      log_.clear();
      return Reply{200, "{}", {}};
    });
  }

  void serve(const httplib::Request& request, httplib::Response& response) {
    Reply reply = router_.dispatch(request);
    response.status = reply.status;
    for (const auto& [name, value] : reply.headers) response.set_header(name, value);
    response.set_content(reply.body, kJsonContentType);
    if ((log_.enabled() || options_.on_request) && !is_inspection(request)) record(request, reply.status);
  }

  void record(const httplib::Request& request, int status) {
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
    if (options_.on_request) options_.on_request(recorded);
    log_.append(std::move(recorded));
  }

  Options options_;
  Clock clock_;
  IdGenerator ids_;
  TokenStore tokens_;
  MessageKeyRegistry message_keys_;
  RequestLog log_;
  SimContext context_;
  Router router_;
  std::unique_ptr<HttpServer> http_;
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

}  // namespace sfmc::sim
