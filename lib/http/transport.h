// The HTTP seam: the SFMC client talks to this interface, so tests drive it
// with a fake and the daemon with libcurl.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace sfmc {

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
};

struct HttpResponse {
  int status = 0;  // 0 when no response arrived (see transport_error)
  std::string body;
  std::string retry_after;      // the Retry-After header, when sent
  std::string transport_error;  // connection/timeout failure, empty otherwise
  // The server's TLS certificate failed verification (untrusted, expired,
  // or not for the host): the request never left this process.
  bool certificate_refused = false;
};

// Many requests in flight on the caller's thread: start() queues, poll()
// moves bytes and runs the callbacks of finished requests.
class HttpTransport {
 public:
  using Callback = std::function<void(HttpResponse)>;
  virtual ~HttpTransport() = default;

  virtual void start(HttpRequest request, Callback done) = 0;
  // Works for at most `max_wait` (returns early when a request finished or
  // a watched descriptor became readable) and runs completed requests'
  // callbacks.
  virtual void poll(std::chrono::milliseconds max_wait) = 0;
  virtual size_t in_flight() const = 0;
  // A descriptor poll() also wakes for when it becomes readable.
  virtual void watch(int fd) = 0;
};

}  // namespace sfmc
