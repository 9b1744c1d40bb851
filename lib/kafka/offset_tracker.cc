#include "kafka/offset_tracker.h"

#include <algorithm>

namespace sfmc::kafka {

void OffsetTracker::begin(const std::string& topic, int32_t partition, int64_t offset) {
  auto& p = partitions_[{topic, partition}];
  p.pending.insert(offset);
  p.highest_seen = std::max(p.highest_seen, offset);
}

void OffsetTracker::finish(const std::string& topic, int32_t partition, int64_t offset) {
  auto it = partitions_.find({topic, partition});
  if (it != partitions_.end()) it->second.pending.erase(offset);
}

void OffsetTracker::forget(const std::string& topic, int32_t partition) { partitions_.erase({topic, partition}); }

std::vector<std::pair<OffsetTracker::PartitionKey, int64_t>> OffsetTracker::take_committable() {
  std::vector<std::pair<PartitionKey, int64_t>> moved;
  for (auto& [key, p] : partitions_) {
    if (p.highest_seen < 0) continue;
    int64_t position = p.pending.empty() ? p.highest_seen + 1 : *p.pending.begin();
    if (position > p.last_reported) {
      p.last_reported = position;
      moved.emplace_back(key, position);
    }
  }
  return moved;
}

size_t OffsetTracker::in_flight() const {
  size_t n = 0;
  for (const auto& [key, p] : partitions_) n += p.pending.size();
  return n;
}

}  // namespace sfmc::kafka
