#include "sim_fault_glue.h"

#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>

#include "sim_auth.h"
#include "sim_errors.h"
#include "sim_json.h"

namespace sfmc::sim {
namespace {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return status < 500 ? "Client Error" : "Server Error";
  }
}

// poll() until one of `fds` reports, `limit` passes, or a signal-free error.
int poll_for(pollfd* fds, nfds_t count, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    using std::chrono::milliseconds;
    // Rounded up: a delay must not end before the time asked for.
    const auto left = std::chrono::ceil<milliseconds>(deadline - std::chrono::steady_clock::now());
    const int ready = ::poll(fds, count, static_cast<int>(std::max<std::int64_t>(0, left.count())));
    if (ready >= 0 || errno != EINTR) return ready;
  }
}

bool peer_matches(int fd, const std::string& remote_addr, int remote_port, int local_port) {
  sockaddr_storage local{};
  socklen_t local_length = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_length) != 0) return false;
  sockaddr_storage peer{};
  socklen_t peer_length = sizeof peer;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_length) != 0) return false;
  char local_port_text[16], peer_host[NI_MAXHOST], peer_port_text[16];
  // The same numeric formatting httplib uses for Request::remote_addr.
  if (::getnameinfo(reinterpret_cast<sockaddr*>(&local), local_length, nullptr, 0, local_port_text,
                    sizeof local_port_text, NI_NUMERICSERV) != 0 ||
      ::getnameinfo(reinterpret_cast<sockaddr*>(&peer), peer_length, peer_host, sizeof peer_host, peer_port_text,
                    sizeof peer_port_text, NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return false;
  }
  return std::atoi(local_port_text) == local_port && std::atoi(peer_port_text) == remote_port &&
         remote_addr == peer_host;
}

// Points `socket` at /dev/null; closing the socket's last reference ends the
// connection (with RST when SO_LINGER is zero).
void detach(int socket) {
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) {
    ::shutdown(socket, SHUT_RDWR);  // still ends the connection; httplib closes the descriptor
    return;
  }
  ::dup3(null_fd, socket, O_CLOEXEC);
  ::close(null_fd);
}

}  // namespace

Reply fault_reply(const FaultAction& action, int retry_after_s) {
  const std::string retry_after = std::to_string(retry_after_s);
  switch (action.kind) {
    case FaultKind::kThrottled: {
      json::Writer out;
      out.begin_object().str_field("message", fault::kRateLimitedMessage).int_field("errorcode", fault::kRateLimited);
      out.int_field("retryAfter", retry_after_s).str_field("documentation", "").end_object();
      return Reply{429, out.text(), {{"Retry-After", retry_after}}};
    }
    case FaultKind::kBlocked: return Reply{429, json::rest_error(fault::kBlocked, fault::kBlockedMessage), {}};
    case FaultKind::kUnavailable:
      return Reply{503, json::rest_error(fault::kUnavailable, fault::kUnavailableMessage),
                   {{"Retry-After", retry_after}}};
    case FaultKind::kUnauthorized: return not_authorized();
    case FaultKind::kStatus:
    default: return Reply{action.status, json::rest_error(0, reason_phrase(action.status)), {}};
  }
}

std::string partial_response(const Reply& reply, std::string_view content_type) {
  std::string bytes = "HTTP/1.1 " + std::to_string(reply.status) + " ";
  bytes += std::string(reason_phrase(reply.status)) + "\r\n";
  bytes += "Content-Type: " + std::string(content_type) + "\r\n";
  for (const auto& [name, value] : reply.headers) bytes += name + ": " + value + "\r\n";
  bytes += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n\r\n";
  bytes += reply.body.substr(0, reply.body.size() / 2);
  return bytes;
}

StopSignal::StopSignal() {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) throw std::system_error(errno, std::system_category(), "pipe2");
  read_end_ = ends[0];
  write_end_ = ends[1];
}

StopSignal::~StopSignal() {
  ::close(read_end_);
  ::close(write_end_);
}

void StopSignal::raise() {
  // The byte stays unread until clear(), so every poll sees it.
  [[maybe_unused]] const auto written = ::write(write_end_, "x", 1);
}

void StopSignal::clear() {
  char drain[64];
  while (::read(read_end_, drain, sizeof drain) > 0) {
  }
}

bool StopSignal::sleep_for(std::chrono::milliseconds duration) const {
  pollfd stop{read_end_, POLLIN, 0};
  return poll_for(&stop, 1, duration) == 0;
}

bool StopSignal::wait_for_peer_close(int socket, std::chrono::milliseconds limit) const {
  pollfd fds[2] = {{socket, POLLRDHUP, 0}, {read_end_, POLLIN, 0}};
  poll_for(fds, 2, limit);
  return fds[1].revents == 0;
}

int find_request_socket(const std::string& remote_addr, int remote_port, int local_port) {
  DIR* fds = ::opendir("/proc/self/fd");
  if (fds == nullptr) return -1;
  int found = -1;
  while (const dirent* entry = ::readdir(fds)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == ::dirfd(fds)) continue;
    if (peer_matches(static_cast<int>(fd), remote_addr, remote_port, local_port)) {
      found = static_cast<int>(fd);
      break;
    }
  }
  ::closedir(fds);
  return found;
}

void reset_connection(int socket) {
  const linger abort_on_close{1, 0};
  ::setsockopt(socket, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  detach(socket);
}

void close_connection(int socket) {
  ::shutdown(socket, SHUT_WR);  // FIN now, even if a duplicate of the descriptor exists
  detach(socket);
}

bool send_all(int socket, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto sent = ::send(socket, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

}  // namespace sfmc::sim
