// Reads one topic, every partition, from a consumer group's committed
// positions (the start where it has none) to the end each partition had when
// reading began, for a finite job such as a redrive. Partitions are assigned
// by hand: no group join to wait for; a transactional producer with an id of
// its own fences a second reader of the same group.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kafka/handles.h"

namespace sfmc::kafka {

class TopicReader {
 public:
  using LogHook = std::function<void(int level, const std::string& facility, const std::string& message)>;

  // `properties`: bootstrap.servers, group.id and the security settings;
  // read_committed, no auto commit, no auto topic creation are forced.
  TopicReader(Properties properties, std::string topic, LogHook log);
  ~TopicReader();
  TopicReader(const TopicReader&) = delete;
  TopicReader& operator=(const TopicReader&) = delete;

  // Whether the cluster has `topic`; `error` says why when it cannot tell.
  bool topic_exists(const std::string& topic, std::string& error);
  // Looks up the group's positions and the partitions' ends, and starts
  // fetching. False, with `error`, when the topic is unknown or the cluster
  // does not answer.
  bool start(std::string& error);

  // The next record, or nullopt after `timeout` or once finished().
  std::optional<InboundEvent> next(std::chrono::milliseconds timeout);
  // Every partition read up to the end it had at start().
  bool finished() const;
  // Records between the positions and those ends.
  int64_t remaining() const;
  // Where each partition stands (the offset after the last record taken).
  PartitionList positions() const;
  // Back to `positions` (an aborted transaction's records are read again).
  bool rewind(const rd_kafka_topic_partition_list_t* positions, std::string& error);
  GroupMetadata group_metadata() const;

 private:
  struct Partition {
    int32_t id = 0;
    int64_t position = 0;
    int64_t end = 0;
    bool done = false;
  };
  Partition* find(int32_t id);
  static void finish(Partition& p);

  std::string topic_;
  LogHook log_;
  Handle handle_;
  std::vector<Partition> partitions_;
};

}  // namespace sfmc::kafka
