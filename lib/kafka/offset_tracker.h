// At-least-once bookkeeping: a partition's offset may be committed only up to
// its first event whose outcome the broker has not yet acknowledged.
// Events finish out of order; the committable position is the lowest
// unfinished offset, or one past the highest seen when all have finished.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sfmc::kafka {

class OffsetTracker {
 public:
  using PartitionKey = std::pair<std::string, int32_t>;

  void begin(const std::string& topic, int32_t partition, int64_t offset);
  // One more acknowledgement the event needs (e.g. its dead letter).
  void expect_another(const std::string& topic, int32_t partition, int64_t offset);
  void finish(const std::string& topic, int32_t partition, int64_t offset);
  void forget(const std::string& topic, int32_t partition);

  // Positions (next offset to consume) that moved since the last call; with
  // `unconfirmed_too`, every position beyond the confirmed commit.
  std::vector<std::pair<PartitionKey, int64_t>> take_committable(bool unconfirmed_too = false);
  // The broker confirmed a commit of `position`.
  void committed(const std::string& topic, int32_t partition, int64_t position);
  // A commit failed: the partition's position is taken again.
  void commit_failed(const std::string& topic, int32_t partition);
  void commit_failed_all();

  size_t in_flight() const;
  // Events consumed but not yet covered by a confirmed commit: what a crash
  // now would deliver again.
  size_t uncommitted() const;

 private:
  struct Partition {
    std::map<int64_t, int> pending;  // offset -> acknowledgements still needed
    int64_t first_seen = -1;
    int64_t highest_seen = -1;
    int64_t last_reported = -1;
    int64_t committed = -1;
  };
  std::map<PartitionKey, Partition> partitions_;
};

}  // namespace sfmc::kafka
