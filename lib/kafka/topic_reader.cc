#include "kafka/topic_reader.h"

#include <syslog.h>

#include <algorithm>

namespace sfmc::kafka {

namespace {

constexpr int kTimeoutMs = 10000;

Properties reader_properties(Properties properties) {
  properties["enable.auto.commit"] = "false";
  properties["enable.auto.offset.store"] = "false";
  properties["isolation.level"] = "read_committed";
  properties["allow.auto.create.topics"] = "false";
  properties["enable.partition.eof"] = "true";  // the end past transaction markers
  // A hand-assigned reader is not a group member.
  for (const char* member : {"group.instance.id", "group.protocol", "group.remote.assignor",
                             "partition.assignment.strategy", "session.timeout.ms", "heartbeat.interval.ms"})
    properties.erase(member);
  return properties;
}

}  // namespace

TopicReader::TopicReader(Properties properties, std::string topic, LogHook log)
    : topic_(std::move(topic)), log_(std::move(log)) {
  Conf conf = make_conf(reader_properties(std::move(properties)));
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_log_cb(conf.get(), [](const rd_kafka_t* rk, int level, const char* facility, const char* message) {
    auto* self = static_cast<TopicReader*>(rd_kafka_opaque(rk));
    if (self->log_) self->log_(level, facility, message);
  });
  handle_ = make_client(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(handle_.get());
}

TopicReader::~TopicReader() {
  if (handle_) rd_kafka_consumer_close(handle_.get());
}

bool TopicReader::topic_exists(const std::string& topic, std::string& error) {
  rd_kafka_topic_t* handle = rd_kafka_topic_new(handle_.get(), topic.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  auto err = rd_kafka_metadata(handle_.get(), 0, handle, &metadata, kTimeoutMs);
  bool exists = false;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = std::string("cannot read the cluster's metadata: ") + rd_kafka_err2str(err);
  } else {
    exists = metadata->topic_cnt == 1 && metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
             metadata->topics[0].partition_cnt > 0;
    if (!exists && metadata->topic_cnt == 1 && metadata->topics[0].err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
      error = std::string("topic '") + topic + "': " + rd_kafka_err2str(metadata->topics[0].err);
    if (exists && partitions_.empty() && topic == topic_)
      for (int i = 0; i < metadata->topics[0].partition_cnt; ++i)
        partitions_.push_back({metadata->topics[0].partitions[i].id, 0, 0, false});
    rd_kafka_metadata_destroy(metadata);
  }
  rd_kafka_topic_destroy(handle);
  return exists;
}

bool TopicReader::start(std::string& error) {
  if (partitions_.empty() && !topic_exists(topic_, error)) {
    if (error.empty()) error = "topic '" + topic_ + "' does not exist";
    return false;
  }
  std::sort(partitions_.begin(), partitions_.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size())));
  for (const auto& p : partitions_) rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), p.id);
  // Under read_committed, a transaction still committing its offsets makes
  // the broker answer "unstable": ask again until it has settled.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
  rd_kafka_resp_err_t err;
  while ((err = rd_kafka_committed(handle_.get(), list.get(), kTimeoutMs)) ==
             RD_KAFKA_RESP_ERR_UNSTABLE_OFFSET_COMMIT &&
         std::chrono::steady_clock::now() < deadline) {
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = std::string("cannot read the group's committed offsets: ") + rd_kafka_err2str(err);
    return false;
  }
  for (size_t i = 0; i < partitions_.size(); ++i) {
    Partition& p = partitions_[i];
    int64_t low = 0, high = 0;
    err = rd_kafka_query_watermark_offsets(handle_.get(), topic_.c_str(), p.id, &low, &high, kTimeoutMs);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      error = "cannot read the end of " + topic_ + "/" + std::to_string(p.id) + ": " + rd_kafka_err2str(err);
      return false;
    }
    int64_t& committed = list->elems[i].offset;  // the list is in partitions_' order
    p.position = std::max(low, committed >= 0 ? committed : low);
    p.end = high;
    p.done = p.position >= p.end;
    committed = p.position;
  }
  err = rd_kafka_assign(handle_.get(), list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = std::string("cannot assign the partitions: ") + rd_kafka_err2str(err);
    return false;
  }
  return true;
}

void TopicReader::finish(Partition& p) {
  p.position = p.end;
  p.done = true;
}

TopicReader::Partition* TopicReader::find(int32_t id) {
  for (auto& p : partitions_)
    if (p.id == id) return &p;
  return nullptr;
}

std::optional<InboundEvent> TopicReader::next(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!finished()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    Message message(rd_kafka_consumer_poll(handle_.get(), static_cast<int>(std::max<int64_t>(left.count(), 0))));
    if (!message) {
      if (left.count() <= 0) return std::nullopt;
      continue;
    }
    Partition* p = find(message->partition);
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      // Past the end it had: whatever lay between was transaction markers
      // or aborted records, which a read_committed reader never sees.
      if (p && message->offset >= p->end) finish(*p);
      continue;
    }
    if (message->err) {
      if (log_) log_(LOG_WARNING, "CONSUME", rd_kafka_message_errstr(message.get()));
      continue;
    }
    if (!p || p->done) continue;
    if (message->offset >= p->end) {  // written after start()
      finish(*p);
      continue;
    }
    p->position = message->offset + 1;
    p->done = p->position >= p->end;
    return copy_out(message.get());
  }
  return std::nullopt;
}

bool TopicReader::finished() const {
  return std::all_of(partitions_.begin(), partitions_.end(), [](const Partition& p) { return p.done; });
}

int64_t TopicReader::remaining() const {
  int64_t n = 0;
  for (const auto& p : partitions_) n += std::max<int64_t>(0, p.end - p.position);
  return n;
}

PartitionList TopicReader::positions() const {
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size())));
  for (const auto& p : partitions_)
    rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), p.id)->offset = p.position;
  return list;
}

bool TopicReader::rewind(const rd_kafka_topic_partition_list_t* positions, std::string& error) {
  PartitionList list(rd_kafka_topic_partition_list_copy(positions));
  if (Error e(rd_kafka_seek_partitions(handle_.get(), list.get(), kTimeoutMs)); e) {
    error = rd_kafka_error_string(e.get());
    return false;
  }
  for (int i = 0; i < list->cnt; ++i)
    if (Partition* p = find(list->elems[i].partition)) {
      p->position = list->elems[i].offset;
      p->done = p->position >= p->end;
    }
  return true;
}

GroupMetadata TopicReader::group_metadata() const {
  return GroupMetadata(rd_kafka_consumer_group_metadata(handle_.get()));
}

}  // namespace sfmc::kafka
