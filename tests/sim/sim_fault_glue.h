// Carrying out a FaultPlan's decision over HTTP. Replies (429, 503, ...)
// are ordinary Replies; the connection-level faults (reset, partial,
// timeout) act on the accepted socket itself, which httplib does not hand
// to handlers, so it is found by the request's addresses.
#pragma once

#include <chrono>
#include <string>

#include "sim_fault_config.h"
#include "sim_router.h"

namespace sfmc::sim {

// SFMC-shaped reply for the reply kinds (kStatus, kThrottled, kBlocked,
// kUnavailable, kUnauthorized).
Reply fault_reply(const FaultAction& action, int retry_after_s);

// The raw bytes of an HTTP/1.1 response cut after half its body: what a
// client sees from a server that dies mid-reply.
std::string partial_response(const Reply& reply, std::string_view content_type);

// Lets every wait of the worker threads end at once when the server stops.
class StopSignal {
 public:
  StopSignal();  // throws std::system_error when no pipe can be made
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  void raise();  // wakes every current and future wait
  void clear();  // for a restart

  // Both return false when woken by raise().
  bool sleep_for(std::chrono::milliseconds duration) const;
  // Until the peer closes `socket`, `limit` passes, or raise().
  bool wait_for_peer_close(int socket, std::chrono::milliseconds limit) const;

 private:
  int read_end_ = -1;
  int write_end_ = -1;
};

// The accepted socket whose local port and peer address are the request's;
// -1 when there is none. Only the worker thread serving the request may act
// on it, and only before its handler returns.
int find_request_socket(const std::string& remote_addr, int remote_port, int local_port);

// Both end the connection and leave `socket` pointing at /dev/null, so that
// httplib's own writes fail quietly and it closes the descriptor as usual.
void reset_connection(int socket);  // RST: the client reads ECONNRESET
void close_connection(int socket);  // FIN: the client reads end of file

// Writes everything, without SIGPIPE when the peer has gone.
bool send_all(int socket, std::string_view bytes);

}  // namespace sfmc::sim
