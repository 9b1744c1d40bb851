#include "kafka/offset_tracker.h"

#include <algorithm>

namespace sfmc::kafka {

void OffsetTracker::begin(const std::string& topic, int32_t partition, int64_t offset) {
  auto& p = partitions_[{topic, partition}];
  p.pending[offset] = 1;
  if (p.first_seen < 0) p.first_seen = offset;
  p.highest_seen = std::max(p.highest_seen, offset);
}

void OffsetTracker::expect_another(const std::string& topic, int32_t partition, int64_t offset) {
  auto it = partitions_.find({topic, partition});
  if (it == partitions_.end()) return;
  if (auto event = it->second.pending.find(offset); event != it->second.pending.end()) ++event->second;
}

void OffsetTracker::finish(const std::string& topic, int32_t partition, int64_t offset) {
  auto it = partitions_.find({topic, partition});
  if (it == partitions_.end()) return;
  auto event = it->second.pending.find(offset);
  if (event != it->second.pending.end() && --event->second <= 0) it->second.pending.erase(event);
}

void OffsetTracker::forget(const std::string& topic, int32_t partition) { partitions_.erase({topic, partition}); }

std::vector<std::pair<OffsetTracker::PartitionKey, int64_t>> OffsetTracker::take_committable(bool unconfirmed_too) {
  std::vector<std::pair<PartitionKey, int64_t>> moved;
  for (auto& [key, p] : partitions_) {
    if (p.highest_seen < 0) continue;
    int64_t position = p.pending.empty() ? p.highest_seen + 1 : p.pending.begin()->first;
    if (position > (unconfirmed_too ? p.committed : p.last_reported)) {
      p.last_reported = position;
      moved.emplace_back(key, position);
    }
  }
  return moved;
}

void OffsetTracker::committed(const std::string& topic, int32_t partition, int64_t position) {
  auto it = partitions_.find({topic, partition});
  if (it != partitions_.end()) it->second.committed = std::max(it->second.committed, position);
}

void OffsetTracker::commit_failed(const std::string& topic, int32_t partition) {
  auto it = partitions_.find({topic, partition});
  if (it != partitions_.end()) it->second.last_reported = it->second.committed;
}

void OffsetTracker::commit_failed_all() {
  for (auto& [key, p] : partitions_) p.last_reported = p.committed;
}

size_t OffsetTracker::uncommitted() const {
  size_t n = 0;
  for (const auto& [key, p] : partitions_) {
    if (p.highest_seen < 0) continue;
    int64_t base = std::max(p.committed, p.first_seen);
    if (p.highest_seen >= base) n += static_cast<size_t>(p.highest_seen + 1 - base);
  }
  return n;
}

size_t OffsetTracker::in_flight() const {
  size_t n = 0;
  for (const auto& [key, p] : partitions_) n += p.pending.size();
  return n;
}

}  // namespace sfmc::kafka
