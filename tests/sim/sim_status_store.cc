#include "sim_status_store.h"

namespace sfmc::sim {

void StatusStore::remember_messages(std::vector<std::pair<std::string, MessageRecord>> records) {
  std::lock_guard lock(mutex_);
  for (auto& [key, record] : records) messages_.put(key, std::move(record));
}

void StatusStore::remember_delivery(const std::string& token_id, DeliveryRecord record) {
  std::lock_guard lock(mutex_);
  deliveries_.put(token_id, std::move(record));
}

std::optional<MessageRecord> StatusStore::message(const std::string& message_key) const {
  std::lock_guard lock(mutex_);
  const auto* found = messages_.find(message_key);
  return found ? std::optional<MessageRecord>(*found) : std::nullopt;
}

std::optional<DeliveryRecord> StatusStore::delivery(const std::string& token_id) const {
  std::lock_guard lock(mutex_);
  const auto* found = deliveries_.find(token_id);
  return found ? std::optional<DeliveryRecord>(*found) : std::nullopt;
}

std::size_t StatusStore::message_count() const {
  std::lock_guard lock(mutex_);
  return messages_.size();
}

std::size_t StatusStore::delivery_count() const {
  std::lock_guard lock(mutex_);
  return deliveries_.size();
}

void StatusStore::clear() {
  std::lock_guard lock(mutex_);
  messages_.clear();
  deliveries_.clear();
}

}  // namespace sfmc::sim
