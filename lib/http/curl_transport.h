// HttpTransport over one reused libcurl easy handle (keep-alive).
#pragma once

#include <curl/curl.h>

#include <memory>
#include <string>

#include "http/transport.h"

namespace sfmc {

struct CurlOptions {
  long connect_timeout_ms = 3000;
  long timeout_ms = 15000;
  // SFMC closes connections idle for 5 s; retire ours before that so no send
  // lands on a connection the server is closing.
  long max_idle_s = 4;
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
  HttpResponse perform(const HttpRequest& request) override;

 private:
  struct EasyDeleter {
    void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
  };
  CurlOptions options_;
  std::unique_ptr<CURL, EasyDeleter> easy_;
};

}  // namespace sfmc
