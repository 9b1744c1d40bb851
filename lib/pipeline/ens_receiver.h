// What the ENS receiver does with one POST of SFMC's Event Notification
// Service, apart from HTTP and Kafka (the daemon's listener and producer
// sit around it): the verification POST is answered 200 and its pair
// handed back (to log, or to verify); any other body must carry a valid
// x-sfmc-ens-signature (401 otherwise, before anything is parsed) and be a
// batch of events (400 otherwise); each event not seen recently becomes a
// delivery record, keyed by its messageKey, and the answer is 200 only once
// the sink says every record is acknowledged, 503 (ENS retries) when it
// cannot say so in time.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "sfmc/ens.h"

namespace sfmc {

struct EnsReceiverOptions {
  std::vector<std::string> signature_keys;  // base64, as SFMC shows them
  // ENS wants its answer within 3 s; this leaves room for the network.
  std::chrono::milliseconds answer_within{2500};
  // Events remembered to drop ENS's repeats (messageKey, type, time): about
  // 100 bytes each.
  size_t remembered_events = 200000;
};

// Where the records go.
class EnsSink {
 public:
  using Record = std::pair<std::string, std::string>;  // key, value
  virtual ~EnsSink() = default;
  // Produces every record and waits until all are acknowledged or
  // `deadline` passes; true only when every one was.
  virtual bool produce_all(const std::vector<Record>& records, Clock::time_point deadline) = 0;
};

struct EnsAnswer {
  int status = 200;
  std::string body;                      // a short JSON word for the caller
  std::string problem;                   // what an operator should read (401, 400, 503), never a secret
  size_t produced = 0;                   // records the sink acknowledged
  size_t repeats = 0;                    // events dropped as seen before
  size_t skipped = 0;                    // events not about a message of ours
  std::vector<std::string> event_types;  // of the events in a signed batch
  bool verification = false;             // the callback verification POST
  std::string callback_id, verification_key;
};

class EnsReceiver {
 public:
  // `unix_ms` gives the wall time the records say they were received.
  // Throws std::invalid_argument when a signature key is not base64.
  EnsReceiver(EnsReceiverOptions options, EnsSink& sink, Clock& clock, std::function<int64_t()> unix_ms);

  // One POST: the x-sfmc-ens-signature header's value (empty when absent)
  // and the raw body. Safe to call from several threads at once.
  EnsAnswer handle(std::string_view signature, std::string_view body);

 private:
  // Whether the event was produced recently (a repeat to drop).
  bool seen(const std::string& id);
  void remember(const std::vector<std::string>& ids);

  EnsReceiverOptions options_;
  EnsSignature signature_;
  EnsSink& sink_;
  Clock& clock_;
  std::function<int64_t()> unix_ms_;
  std::mutex mutex_;  // guards the two below
  std::unordered_set<std::string> seen_;
  std::deque<std::string> seen_order_;  // oldest first, forgotten first
};

}  // namespace sfmc
