// The receiver verifies its callback itself (ens.verify_account): after the
// verification POST is answered, POST /platform/v1/ens-verify with its pair.
// SFMC may know the callback only once the creation that caused the POST
// has returned, so each pair is tried again every `retry_every` until it is
// verified or `give_up_after` has passed; then the operator is told to run
// `sfmc-relay ens verify` (the pair is in the log).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "sfmc/ens_platform.h"
#include "telemetry/log.h"

namespace sfmc {

struct EnsVerifierOptions {
  std::chrono::milliseconds retry_every{2000};
  std::chrono::milliseconds give_up_after{60000};
  // The verification POST is unsigned (ENS sends it before anyone holds the
  // key): whoever reaches the listener can send one. Beyond this many pairs
  // being tried, a new one is only logged, so that such POSTs cannot turn
  // into a stream of calls to SFMC.
  size_t max_pending = 8;
};

class EnsVerifier {
 public:
  // One ens-verify call (the daemon's: EnsPlatform::verify, which keeps its token).
  using Call = std::function<PlatformAnswer(const std::string& callback_id, const std::string& verification_key)>;

  EnsVerifier(Call call, Logger& log, EnsVerifierOptions options = {});
  ~EnsVerifier();  // stops; pairs not verified yet are given up, said in the log
  EnsVerifier(const EnsVerifier&) = delete;
  EnsVerifier& operator=(const EnsVerifier&) = delete;

  // Queues a pair (one per callback: a new pair replaces its callback's);
  // returns at once.
  void verify(std::string callback_id, std::string verification_key);

 private:
  struct Pair {
    std::string callback_id, verification_key;
    std::chrono::steady_clock::time_point due, give_up_at;
    std::string problem;  // the last try's
  };
  void run();

  Call call_;
  Logger& log_;
  const EnsVerifierOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pair> pairs_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace sfmc
