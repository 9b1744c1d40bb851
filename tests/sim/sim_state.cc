#include "sim_state.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace sfmc::sim {
namespace {

constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kAlphanumeric =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::string_view kHex = "0123456789abcdef";

std::uint64_t resolve_seed(std::uint64_t seed) {
  if (seed != 0) {
    return seed;
  }
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

}  // namespace

IdGenerator::IdGenerator(std::uint64_t seed) : engine_(resolve_seed(seed)) {}

std::string IdGenerator::random_chars(std::size_t count, std::string_view alphabet) {
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::string out(count, ' ');
  std::lock_guard lock(mutex_);
  for (char& c : out) {
    c = alphabet[pick(engine_)];
  }
  return out;
}

std::string IdGenerator::request_id() {
  std::string id = random_chars(32, kHex);
  id[12] = '4';                          // version 4
  id[16] = "89ab"[id[16] % 4];           // RFC 4122 variant
  return id.substr(0, 8) + '-' + id.substr(8, 4) + '-' + id.substr(12, 4) + '-' +
         id.substr(16, 4) + '-' + id.substr(20, 12);
}

std::string IdGenerator::message_key() { return random_chars(22, kBase64Url); }

std::string IdGenerator::token_id() { return random_chars(25, kAlphanumeric); }

std::string IdGenerator::access_token() { return random_chars(64, kBase64Url); }

void TokenStore::remember(std::string token, TimePoint expires_at, TimePoint now) {
  std::unique_lock lock(mutex_);
  // Pruning on issue keeps the map small; tokens are issued rarely.
  std::erase_if(expiry_, [now](const auto& entry) { return entry.second <= now; });
  expiry_[std::move(token)] = expires_at;
}

bool TokenStore::is_valid(const std::string& token, TimePoint now) const {
  std::shared_lock lock(mutex_);
  const auto found = expiry_.find(token);
  return found != expiry_.end() && now < found->second;
}

void TokenStore::expire_all() {
  std::unique_lock lock(mutex_);
  expiry_.clear();
}

RequestLog::RequestLog(std::size_t capacity) : capacity_(capacity) {}

void RequestLog::append(RecordedRequest request) {
  if (capacity_ == 0) {
    return;
  }
  std::lock_guard lock(mutex_);
  if (requests_.size() == capacity_) {
    requests_.pop_front();
  }
  requests_.push_back(std::move(request));
}

std::vector<RecordedRequest> RequestLog::snapshot() const {
  std::lock_guard lock(mutex_);
  return {requests_.begin(), requests_.end()};
}

void RequestLog::clear() {
  std::lock_guard lock(mutex_);
  requests_.clear();
}

}  // namespace sfmc::sim
