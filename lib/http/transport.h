// The HTTP seam: the SFMC client talks to this interface, so tests can give
// it a fake and the daemon gives it libcurl.
#pragma once

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
  int status = 0;             // 0 when no response arrived (see transport_error)
  std::string body;
  std::string retry_after;    // the Retry-After header, when sent
  std::string transport_error;  // connection/timeout failure, empty otherwise
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual HttpResponse perform(const HttpRequest& request) = 0;
};

}  // namespace sfmc
