// HttpTransport over libcurl's multi-socket interface: many requests
// concurrently on one thread, connections kept alive in one shared pool, and
// one epoll set, so each turn costs what is ready, not what is open.
#pragma once

#include <curl/curl.h>

#include <deque>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "http/transport.h"

namespace sfmc {

struct CurlOptions {
  long connect_timeout_ms = 3000;
  long timeout_ms = 15000;
  // SFMC closes connections idle for 5 s; retire ours before that so no send
  // lands on a connection the server is closing.
  long max_idle_s = 4;
  long max_connections = 64;  // pool size and per-host limit
  bool verify_tls = true;
  std::string ca_path;  // CA bundle file; empty: the system default
};

// curl_global_init/cleanup, owned by main() for the process's lifetime.
class CurlGlobal {
 public:
  CurlGlobal();
  ~CurlGlobal();
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;
};

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(CurlOptions options);
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  void start(HttpRequest request, Callback done) override;
  void poll(std::chrono::milliseconds max_wait) override;
  size_t in_flight() const override { return transfers_.size() + waiting_.size(); }
  void watch(int fd) override;

 private:
  struct EasyDeleter {
    void operator()(CURL* h) const { curl_easy_cleanup(h); }
  };
  struct MultiDeleter {
    void operator()(CURLM* h) const { curl_multi_cleanup(h); }
  };
  struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
  };
  using Easy = std::unique_ptr<CURL, EasyDeleter>;
  struct Transfer {
    Easy easy;
    HttpRequest request;
    HttpResponse response;
    std::unique_ptr<curl_slist, SlistDeleter> headers;
    Callback done;
    char error[CURL_ERROR_SIZE] = {};  // curl's detail of a failure
  };

  std::string configure(Transfer& t);
  void launch(HttpRequest request, Callback done);
  bool read_done();  // true when a callback ran
  bool run_due_timer();  // true when curl's timer was due (and has run)
  void finish(CURL* easy, CURLcode result);
  // A failure in words: curl's detail when it gave one, and for a refused
  // certificate the server and the CAs it was checked against.
  std::string describe(const Transfer& t, CURLcode result) const;
  static int on_socket(CURL* easy, curl_socket_t socket, int what, void* self, void* socket_data);
  static int on_timer(CURLM* multi, long timeout_ms, void* self);

  CurlOptions options_;
  std::unique_ptr<CURLM, MultiDeleter> multi_;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers_;
  std::vector<Easy> idle_;  // handles to reuse
  int epoll_ = -1;
  // When curl wants curl_multi_socket_action(CURL_SOCKET_TIMEOUT); empty: never.
  std::optional<std::chrono::steady_clock::time_point> timer_;
  std::vector<std::pair<Callback, HttpResponse>> refused_;  // start() failures, reported by poll()
  // Requests beyond max_connections wait here, not in curl: curl walks every
  // transfer it holds on each call, so thousands queued there cost far more.
  std::deque<std::pair<HttpRequest, Callback>> waiting_;
};

}  // namespace sfmc
