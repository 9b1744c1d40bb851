// What the status routes report (reference §4): the messages the
// transactional routes accepted and the MobileConnect sends they issued a
// tokenId for. Bounded: beyond the limit the oldest record is dropped, so a
// long benchmark cannot grow the simulator without end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim_types.h"

namespace sfmc::sim {

// At most `capacity` entries; put() beyond that drops the oldest put.
// Not thread-safe: StatusStore locks around it.
template <typename Value>
class BoundedMap {
 public:
  explicit BoundedMap(std::size_t capacity) : capacity_(capacity) {}

  // Replaces an existing entry, which then counts as the newest.
  void put(const std::string& key, Value value) {
    if (capacity_ == 0) return;
    const auto [entry, inserted] = map_.try_emplace(key, Slot{std::move(value), next_seq_});
    if (!inserted) entry->second = Slot{std::move(value), next_seq_};
    order_.push_back({&*entry, next_seq_++});
    // Each put adds one order entry, so bounding the entries bounds the map;
    // an entry superseded by a later put of its key is skipped, not erased.
    while (order_.size() > capacity_) {
      const auto [oldest, seq] = order_.front();
      order_.pop_front();
      if (oldest->second.seq == seq) map_.erase(map_.find(oldest->first));
    }
  }

  const Value* find(const std::string& key) const {
    const auto found = map_.find(key);
    return found == map_.end() ? nullptr : &found->second.value;
  }

  std::size_t size() const { return map_.size(); }
  void clear() {
    order_.clear();
    map_.clear();
  }

 private:
  struct Slot {
    Value value;
    std::uint64_t seq;
  };
  using Entry = typename std::unordered_map<std::string, Slot>::value_type;

  std::size_t capacity_;
  std::unordered_map<std::string, Slot> map_;
  // Element addresses survive rehashing; an element is erased only by its
  // own newest order entry, which comes after every older one.
  std::deque<std::pair<const Entry*, std::uint64_t>> order_;
  std::uint64_t next_seq_ = 0;
};

// One recipient a transactional send accepted.
struct MessageRecord {
  Channel channel = Channel::kSms;
  std::string contact_key;
  std::string to;
  std::string composite_id;
  TimePoint accepted_at;
};

enum class MobileConnectRoute { kMessageContact, kMessageList };

// One MobileConnect send that got a tokenId.
struct DeliveryRecord {
  MobileConnectRoute route = MobileConnectRoute::kMessageContact;
  std::string message_id;
  std::string message_text;
  std::vector<std::string> mobile_numbers;  // empty for lists: the simulator knows no members
  TimePoint created_at;
};

class StatusStore {
 public:
  // Each kind keeps at most `capacity` records.
  explicit StatusStore(std::size_t capacity) : messages_(capacity), deliveries_(capacity) {}

  // Several recipients of one request under one lock.
  void remember_messages(std::vector<std::pair<std::string, MessageRecord>> records);
  void remember_delivery(const std::string& token_id, DeliveryRecord record);

  std::optional<MessageRecord> message(const std::string& message_key) const;
  std::optional<DeliveryRecord> delivery(const std::string& token_id) const;

  std::size_t message_count() const;
  std::size_t delivery_count() const;
  void clear();

 private:
  mutable std::mutex mutex_;
  BoundedMap<MessageRecord> messages_;
  BoundedMap<DeliveryRecord> deliveries_;
};

}  // namespace sfmc::sim
