// The simulator's mutable state. Each class guards itself, because httplib
// calls the route handlers from many worker threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sim_types.h"

namespace sfmc::sim {

// Random identifiers in the shapes SFMC uses. Seedable for reproducible runs.
class IdGenerator {
 public:
  explicit IdGenerator(std::uint64_t seed);  // 0: seed from std::random_device

  std::string request_id();    // uuid v4 text, e.g. "ccdb94bf-...-..."
  std::string message_key();   // 22 base64url chars, like nFL4ULgheUeaGbPIMzJJSw
  std::string token_id();      // 25 alphanumerics, like c21NCNSDN2sMMWM2miosdjEHH
  std::string access_token();  // opaque bearer token

 private:
  std::string random_chars(std::size_t count, std::string_view alphabet);

  std::mutex mutex_;
  std::mt19937_64 engine_;
};

// Access tokens issued by /v2/token and when they stop being accepted.
class TokenStore {
 public:
  void remember(std::string token, TimePoint expires_at, TimePoint now);
  bool is_valid(const std::string& token, TimePoint now) const;
  void expire_all();  // lets a test force the client's 401 → refresh path

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, TimePoint> expiry_;
};

// Bounded, thread-safe log of the requests the simulator answered.
class RequestLog {
 public:
  explicit RequestLog(std::size_t capacity);

  void append(RecordedRequest request);
  std::vector<RecordedRequest> snapshot() const;
  void clear();
  bool enabled() const { return capacity_ > 0; }

 private:
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::deque<RecordedRequest> requests_;
};

}  // namespace sfmc::sim
