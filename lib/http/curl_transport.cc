#include "http/curl_transport.h"

#include <stdexcept>
#include <string_view>

namespace sfmc {

CurlGlobal::CurlGlobal() {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
}
CurlGlobal::~CurlGlobal() { curl_global_cleanup(); }

namespace {

size_t on_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  std::string_view line(data, size * count);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (size_t i = 0; i < kName.size() && match; ++i)
      match = static_cast<char>(std::tolower(static_cast<unsigned char>(line[i]))) == kName[i];
    if (match) {
      auto value = line.substr(kName.size());
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
        value.remove_suffix(1);
      static_cast<HttpResponse*>(user)->retry_after = std::string(value);
    }
  }
  return size * count;
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

CurlTransport::CurlTransport(CurlOptions options) : options_(std::move(options)), easy_(curl_easy_init()) {
  if (!easy_) throw std::runtime_error("curl_easy_init failed");
}

HttpResponse CurlTransport::perform(const HttpRequest& request) {
  HttpResponse response;
  CURL* h = easy_.get();
  curl_easy_reset(h);  // keeps the connection cache, drops the previous request's options

  std::unique_ptr<curl_slist, SlistDeleter> headers;
  for (const auto& header : request.headers) {
    curl_slist* appended = curl_slist_append(headers.get(), header.c_str());
    if (appended == nullptr) return {0, {}, {}, "out of memory building request headers"};
    (void)headers.release();
    headers.reset(appended);
  }

  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, option, value);
  };
  set(CURLOPT_URL, request.url.c_str());
  set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method != "GET") {
    set(CURLOPT_POSTFIELDS, request.body.data());
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  set(CURLOPT_HTTPHEADER, headers.get());
  set(CURLOPT_WRITEFUNCTION, on_body);
  set(CURLOPT_WRITEDATA, &response.body);
  set(CURLOPT_HEADERFUNCTION, on_header);
  set(CURLOPT_HEADERDATA, &response);
  set(CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
  set(CURLOPT_TIMEOUT_MS, options_.timeout_ms);
  set(CURLOPT_MAXAGE_CONN, options_.max_idle_s);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  set(CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  if (!options_.ca_path.empty()) set(CURLOPT_CAINFO, options_.ca_path.c_str());
  if (rc != CURLE_OK) return {0, {}, {}, std::string("curl option rejected: ") + curl_easy_strerror(rc)};

  rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    response.status = 0;
    response.transport_error = curl_easy_strerror(rc);
    return response;
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace sfmc
