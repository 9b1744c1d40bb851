#include "http/curl_transport.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string_view>
#include <utility>

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

bool certificate_refused(CURLcode result) {
  return result == CURLE_PEER_FAILED_VERIFICATION || result == CURLE_SSL_CACERT_BADFILE ||
         result == CURLE_SSL_ISSUER_ERROR || result == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
}

// "https://host:port" of a URL.
std::string_view origin(std::string_view url) {
  const auto scheme = url.find("://");
  return url.substr(0, scheme == std::string_view::npos ? url.size() : url.find('/', scheme + 3));
}

}  // namespace

std::string CurlTransport::describe(const Transfer& t, CURLcode result) const {
  std::string detail = t.error[0] != '\0' ? std::string(t.error) : std::string(curl_easy_strerror(result));
  if (!certificate_refused(result)) return detail;
  return "TLS: the certificate of " + std::string(origin(t.request.url)) + " was refused, nothing was sent: " + detail +
         " (trusted CAs: " + (options_.ca_path.empty() ? std::string("the system's") : options_.ca_path) + ")";
}

CurlTransport::CurlTransport(CurlOptions options) : options_(std::move(options)), multi_(curl_multi_init()) {
  if (!multi_) throw std::runtime_error("curl_multi_init failed");
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_ < 0) throw std::runtime_error("epoll_create1 failed");
  curl_multi_setopt(multi_.get(), CURLMOPT_MAXCONNECTS, options_.max_connections);
  curl_multi_setopt(multi_.get(), CURLMOPT_MAX_HOST_CONNECTIONS, options_.max_connections);
  curl_multi_setopt(multi_.get(), CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);  // HTTP/2 where the server offers it
  curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETFUNCTION, &CurlTransport::on_socket);
  curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_.get(), CURLMOPT_TIMERFUNCTION, &CurlTransport::on_timer);
  curl_multi_setopt(multi_.get(), CURLMOPT_TIMERDATA, this);
}

CurlTransport::~CurlTransport() {
  for (auto& [easy, transfer] : transfers_) curl_multi_remove_handle(multi_.get(), easy);
  multi_.reset();  // its sockets leave the epoll set first
  close(epoll_);
}

// curl says which events each socket waits for; the epoll set follows. Its
// data is the socket itself (curl sockets) or -1 - fd (watched descriptors).
int CurlTransport::on_socket(CURL*, curl_socket_t socket, int what, void* self, void* socket_data) {
  auto* t = static_cast<CurlTransport*>(self);
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(t->epoll_, EPOLL_CTL_DEL, socket, nullptr);
    curl_multi_assign(t->multi_.get(), socket, nullptr);
    return 0;
  }
  epoll_event event{};
  event.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
  event.data.fd = socket;
  bool known = socket_data != nullptr;
  if (epoll_ctl(t->epoll_, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, socket, &event) != 0 && !known)
    epoll_ctl(t->epoll_, EPOLL_CTL_MOD, socket, &event);  // a reused descriptor curl did not announce as removed
  if (!known) curl_multi_assign(t->multi_.get(), socket, t);  // any non-null marker
  return 0;
}

int CurlTransport::on_timer(CURLM*, long timeout_ms, void* self) {
  auto* t = static_cast<CurlTransport*>(self);
  if (timeout_ms < 0) t->timer_.reset();
  else t->timer_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  return 0;
}

void CurlTransport::watch(int fd) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = -1 - fd;
  if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event) != 0) throw std::runtime_error("epoll_ctl failed for a watched descriptor");
}

std::string CurlTransport::configure(Transfer& t) {
  for (const auto& header : t.request.headers) {
    curl_slist* appended = curl_slist_append(t.headers.get(), header.c_str());
    if (appended == nullptr) return "out of memory building request headers";
    (void)t.headers.release();
    t.headers.reset(appended);
  }
  CURL* h = t.easy.get();
  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, option, value);
  };
  set(CURLOPT_URL, t.request.url.c_str());
  set(CURLOPT_CUSTOMREQUEST, t.request.method.c_str());
  if (t.request.method == "GET") {
    set(CURLOPT_HTTPGET, 1L);
  } else {
    set(CURLOPT_POSTFIELDS, t.request.body.data());
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t.request.body.size()));
  }
  set(CURLOPT_HTTPHEADER, t.headers.get());
  set(CURLOPT_WRITEFUNCTION, on_body);
  set(CURLOPT_WRITEDATA, &t.response.body);
  set(CURLOPT_HEADERFUNCTION, on_header);
  set(CURLOPT_HEADERDATA, &t.response);
  set(CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
  set(CURLOPT_TIMEOUT_MS, options_.timeout_ms);
  set(CURLOPT_MAXAGE_CONN, options_.max_idle_s);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_TCP_NODELAY, 1L);
  set(CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  set(CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  if (!options_.ca_path.empty()) set(CURLOPT_CAINFO, options_.ca_path.c_str());
  t.error[0] = '\0';
  set(CURLOPT_ERRORBUFFER, t.error);
  if (rc != CURLE_OK) return std::string("curl option rejected: ") + curl_easy_strerror(rc);
  return {};
}

void CurlTransport::start(HttpRequest request, Callback done) {
  if (transfers_.size() >= static_cast<size_t>(options_.max_connections)) {
    waiting_.emplace_back(std::move(request), std::move(done));
    return;
  }
  launch(std::move(request), std::move(done));
}

void CurlTransport::launch(HttpRequest request, Callback done) {
  auto t = std::make_unique<Transfer>();
  if (!idle_.empty()) {
    t->easy = std::move(idle_.back());
    idle_.pop_back();
    curl_easy_reset(t->easy.get());
  } else {
    t->easy.reset(curl_easy_init());
  }
  t->request = std::move(request);
  t->done = std::move(done);
  std::string error = t->easy ? configure(*t) : "curl_easy_init failed";
  if (error.empty() && curl_multi_add_handle(multi_.get(), t->easy.get()) != CURLM_OK) error = "curl_multi_add_handle failed";
  if (!error.empty()) {
    // Reported like any transport failure, from the next poll(): callers
    // need not expect their callback inside start().
    t->response.transport_error = error;
    refused_.emplace_back(std::move(t->done), std::move(t->response));
    return;
  }
  CURL* key = t->easy.get();
  transfers_.emplace(key, std::move(t));
}

void CurlTransport::finish(CURL* easy, CURLcode result) {
  auto it = transfers_.find(easy);
  if (it == transfers_.end()) return;
  std::unique_ptr<Transfer> t = std::move(it->second);
  transfers_.erase(it);
  curl_multi_remove_handle(multi_.get(), easy);
  if (result != CURLE_OK) {
    t->response.status = 0;
    t->response.certificate_refused = certificate_refused(result);
    t->response.transport_error = describe(*t, result);
  } else {
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    t->response.status = static_cast<int>(status);
  }
  Callback done = std::move(t->done);
  HttpResponse response = std::move(t->response);
  idle_.push_back(std::move(t->easy));
  if (!waiting_.empty()) {
    auto [request, callback] = std::move(waiting_.front());
    waiting_.pop_front();
    launch(std::move(request), std::move(callback));
  }
  done(std::move(response));  // may start new transfers
}

bool CurlTransport::read_done() {
  bool finished_any = false;
  for (;;) {
    int left = 0;
    CURLMsg* message = curl_multi_info_read(multi_.get(), &left);
    if (message == nullptr) break;
    if (message->msg == CURLMSG_DONE) {
      finish(message->easy_handle, message->data.result);
      finished_any = true;
    }
  }
  return finished_any;
}

void CurlTransport::poll(std::chrono::milliseconds max_wait) {
  using namespace std::chrono;
  bool finished_any = false;
  for (auto& [done, response] : std::exchange(refused_, {})) {
    done(std::move(response));
    finished_any = true;
  }
  // A due timer first: new transfers start from it.
  if (run_due_timer()) finished_any |= read_done();
  milliseconds wait = finished_any ? milliseconds(0) : std::max(max_wait, milliseconds(0));
  if (timer_) wait = std::clamp(ceil<milliseconds>(*timer_ - steady_clock::now()), milliseconds(0), wait);

  epoll_event events[64];
  int n = epoll_wait(epoll_, events, 64, static_cast<int>(wait.count()));
  int running = 0;
  for (int i = 0; i < n; ++i) {
    if (events[i].data.fd < 0) continue;  // a watched descriptor: its owner reads it
    int flags = (events[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) | (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                (events[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
    curl_multi_socket_action(multi_.get(), events[i].data.fd, flags, &running);
  }
  run_due_timer();
  read_done();
}

bool CurlTransport::run_due_timer() {
  if (!timer_ || *timer_ > std::chrono::steady_clock::now()) return false;
  timer_.reset();
  int running = 0;
  curl_multi_socket_action(multi_.get(), CURL_SOCKET_TIMEOUT, 0, &running);
  return true;
}

}  // namespace sfmc
