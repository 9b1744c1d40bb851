// Value types shared by the simulator's pieces and its public API.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "sim_fault_config.h"

namespace sfmc::sim {

enum class Channel { kSms, kEmail };

using TimePoint = std::chrono::system_clock::time_point;

// Injected so tests can expire tokens (and, later, messageKey windows)
// without sleeping. Wall-clock, because recorded requests carry it too.
using Clock = std::function<TimePoint()>;

// One HTTP request as the simulator received it.
struct RecordedRequest {
  std::string method;
  // The path exactly as sent on the wire (still percent-encoded), without
  // the query string: tests can check how a client encoded a messageKey.
  std::string path;
  std::string query;                           // raw, without the '?'
  std::map<std::string, std::string> headers;  // names lower-cased; repeats joined by ", "
  std::string body;
  TimePoint time;   // when the request was handled
  int status = 0;   // the status the simulator answered with; 0: none (an injected reset, partial or timeout)
  // The body it answered with; for a partial fault, the whole body of the
  // processed request, of which the client got half.
  std::string response;
};

// Called after each recorded (non-/_sim/) request, on a server thread, so it
// must be thread-safe.
using RequestObserver = std::function<void(const RecordedRequest&)>;

// The ENS feed (sim_ens_feed.h): off while callback_url is empty.
struct EnsFeedOptions {
  std::string callback_url;   // http(s)://HOST:PORT/PATH
  std::string signature_key;  // base64, as SFMC shows it
  std::string ca_file;        // an https callback's CA; empty: the system's
  std::size_t max_batch = 1000;
  std::chrono::milliseconds flush_every{100};
  std::chrono::milliseconds delivered_after{1000};  // SmsDelivered this long after SmsSent
  double repeat_rate = 0.0;  // share of batches posted a second time
  // The event types to post (TransactionalSendEvents.SmsSent, ...), as a
  // subscription names them; empty: every type.
  std::vector<std::string> event_types;
  std::uint64_t seed = 0;    // 0: random
  // Called with each batch's body once it was answered 2xx (on the feed's thread).
  std::function<void(const std::string& body)> on_acknowledged;
};

struct SimOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: the kernel picks a free port
  std::string client_id = "sim-client";
  std::string client_secret = "sim-secret";
  int token_ttl_s = 1080;  // what SFMC announces in expires_in

  // HTTPS with this certificate (chain) and private key, PEM files, on
  // every route; both empty: plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
  // The token route's rest_instance_url (and soap_instance_url), as SFMC
  // gives each tenant a REST host apart from its auth host; empty: this
  // server, as the client reached it.
  std::string rest_instance_url;

  // HTTP behaviour. httplib serves one connection per worker thread, so
  // worker_threads bounds the number of concurrent keep-alive connections.
  int worker_threads = 64;
  int keep_alive_timeout_s = 5;  // SFMC closes connections idle for >= 5 s
  std::size_t keep_alive_max_requests = 1000000;
  std::size_t max_body_bytes = 16 * 1024 * 1024;

  // Oldest requests are dropped beyond this; 0 disables recording (benchmarks).
  std::size_t max_recorded_requests = 100000;

  // SFMC refuses a messageKey reused within 2 days [doc]; 0 keeps keys forever.
  std::chrono::seconds message_key_window{std::chrono::hours(48)};
  // At most this many messageKeys are remembered, the oldest forgotten
  // first (counted in /_sim/stats); 0: no cap. About 120 bytes a key.
  std::size_t max_message_keys = 2'000'000;

  // Records kept for the status routes, per kind (accepted messages,
  // MobileConnect sends); the oldest are dropped beyond it.
  std::size_t max_status_records = 100000;
  // Until this long after the send, the status routes say "queued"
  // (SMSQueued/EmailQueued, MobileConnect "Queuing"); then "sent"/"Finished".
  std::chrono::milliseconds status_delay{0};

  // ENS: signed batches of the transactional events to a callback.
  EnsFeedOptions ens;

  // Faults in force at start; PUT /_sim/faults replaces them at run time.
  FaultConfig faults;

  // The reference leaves open whether a send in which every recipient is
  // invalid gets 202 + 109001 (default here) or 400 + 109103.
  bool reject_when_no_valid_recipients = false;

  // Seeds the identifiers and, unless faults.seed is set, the faults.
  std::uint64_t random_seed = 0;  // 0: seeded from std::random_device
  Clock clock;                    // empty: std::chrono::system_clock::now
  RequestObserver on_request;     // empty: nothing is called
};

}  // namespace sfmc::sim
