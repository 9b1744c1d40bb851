#include "pipeline/ens_verifier.h"

#include <algorithm>

namespace sfmc {

namespace {
constexpr const char* kGaveUp = "ENS callback not verified: run `sfmc-relay ens verify` with the pair logged before";
}

EnsVerifier::EnsVerifier(Call call, Logger& log, EnsVerifierOptions options)
    : call_(std::move(call)), log_(log), options_(options), thread_([this] { run(); }) {}

EnsVerifier::~EnsVerifier() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  for (const auto& pair : pairs_)
    log_.warn(kGaveUp, {{"callbackId", pair.callback_id}, {"error", pair.problem.empty() ? "stopping" : pair.problem}});
}

void EnsVerifier::verify(std::string callback_id, std::string verification_key) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    std::erase_if(pairs_, [&](const Pair& p) { return p.callback_id == callback_id; });
    if (pairs_.size() >= options_.max_pending) {
      log_.warn("ENS callback verification not tried: too many pending; run `sfmc-relay ens verify` with its pair",
                {{"callbackId", callback_id}, {"pending", pairs_.size()}});
      return;
    }
    pairs_.push_back({std::move(callback_id), std::move(verification_key), now, now + options_.give_up_after, {}});
  }
  wake_.notify_all();
}

void EnsVerifier::run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    if (pairs_.empty()) {
      wake_.wait(lock);
      continue;
    }
    auto next =
        std::min_element(pairs_.begin(), pairs_.end(), [](const Pair& a, const Pair& b) { return a.due < b.due; });
    if (std::chrono::steady_clock::now() < next->due) {
      wake_.wait_until(lock, next->due);
      continue;
    }
    Pair pair = std::move(*next);
    pairs_.erase(next);
    lock.unlock();
    const PlatformAnswer answer = call_(pair.callback_id, pair.verification_key);
    lock.lock();
    if (answer.ok()) {
      log_.info("ENS callback verified", {{"callbackId", pair.callback_id}});
      continue;
    }
    pair.problem = answer.problem;
    pair.due = std::chrono::steady_clock::now() + options_.retry_every;
    if (pair.due > pair.give_up_at) {
      log_.warn(kGaveUp, {{"callbackId", pair.callback_id}, {"error", pair.problem}});
      continue;
    }
    pairs_.push_back(std::move(pair));
  }
}

}  // namespace sfmc
