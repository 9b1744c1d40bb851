#include "kafka_harness.h"

#include <atomic>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "kafka/handles.h"

namespace sfmc::test {

using namespace std::chrono;

std::string broker_bootstrap() {
  const char* file = std::getenv("SFMC_TEST_BOOTSTRAP_FILE");
  if (!file) throw std::runtime_error("SFMC_TEST_BOOTSTRAP_FILE is not set: run through ctest (kafka fixture)");
  std::ifstream in(file);
  std::string bootstrap;
  if (!(in >> bootstrap)) throw std::runtime_error(std::string("no bootstrap address in ") + file);
  return bootstrap;
}

std::filesystem::path broker_state_dir() {
  const char* file = std::getenv("SFMC_TEST_BOOTSTRAP_FILE");
  if (!file) throw std::runtime_error("SFMC_TEST_BOOTSTRAP_FILE is not set: run through ctest (kafka fixture)");
  return std::filesystem::path(file).parent_path();
}

void set_topic_config(const std::string& bootstrap, const std::string& topic, const std::string& name,
                      const std::string& value) {
  auto admin = kafka::make_client(RD_KAFKA_PRODUCER, kafka::make_conf({{"bootstrap.servers", bootstrap}}));
  std::unique_ptr<rd_kafka_ConfigResource_t, decltype(&rd_kafka_ConfigResource_destroy)> resource(
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()), &rd_kafka_ConfigResource_destroy);
  if (kafka::Error error{rd_kafka_ConfigResource_add_incremental_config(
          resource.get(), name.c_str(), RD_KAFKA_ALTER_CONFIG_OP_TYPE_SET, value.c_str())})
    throw std::runtime_error(rd_kafka_error_string(error.get()));
  kafka::Queue queue(rd_kafka_queue_new(admin.get()));
  rd_kafka_ConfigResource_t* resources[] = {resource.get()};
  rd_kafka_IncrementalAlterConfigs(admin.get(), resources, 1, nullptr, queue.get());
  kafka::Event event(rd_kafka_queue_poll(queue.get(), 30000));
  if (!event) throw std::runtime_error("IncrementalAlterConfigs timed out");
  const auto* result = rd_kafka_event_IncrementalAlterConfigs_result(event.get());
  if (!result || rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error(std::string("IncrementalAlterConfigs failed: ") + rd_kafka_event_error_string(event.get()));
  size_t count = 0;
  const auto** results = rd_kafka_IncrementalAlterConfigs_result_resources(result, &count);
  for (size_t i = 0; i < count; ++i)
    if (rd_kafka_ConfigResource_error(results[i]) != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error("set " + name + " of " + topic + ": " + rd_kafka_ConfigResource_error_string(results[i]));
}

std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  std::random_device random;
  return prefix + "-" + std::to_string(random()) + "-" + std::to_string(++counter);
}

void create_topic(const std::string& bootstrap, const std::string& topic, int partitions) {
  auto admin = kafka::make_client(RD_KAFKA_PRODUCER, kafka::make_conf({{"bootstrap.servers", bootstrap}}));
  char error[512];
  kafka::NewTopic new_topic(rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, error, sizeof error));
  if (!new_topic) throw std::runtime_error(error);
  kafka::Queue queue(rd_kafka_queue_new(admin.get()));
  rd_kafka_NewTopic_t* topics[] = {new_topic.get()};
  rd_kafka_CreateTopics(admin.get(), topics, 1, nullptr, queue.get());
  kafka::Event event(rd_kafka_queue_poll(queue.get(), 30000));
  if (!event) throw std::runtime_error("CreateTopics timed out");
  const auto* result = rd_kafka_event_CreateTopics_result(event.get());
  if (!result) throw std::runtime_error(std::string("CreateTopics failed: ") + rd_kafka_event_error_string(event.get()));
  size_t count = 0;
  const auto** results = rd_kafka_CreateTopics_result_topics(result, &count);
  for (size_t i = 0; i < count; ++i)
    if (rd_kafka_topic_result_error(results[i]) != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error(std::string("create topic ") + topic + ": " +
                               rd_kafka_topic_result_error_string(results[i]));
  // Wait until the topic's leaders are known, so consumers see it at once.
  auto deadline = steady_clock::now() + seconds(30);
  while (steady_clock::now() < deadline) {
    const rd_kafka_metadata_t* metadata = nullptr;
    rd_kafka_topic_t* handle = rd_kafka_topic_new(admin.get(), topic.c_str(), nullptr);
    bool ready = false;
    if (rd_kafka_metadata(admin.get(), 0, handle, &metadata, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ready = metadata->topic_cnt == 1 && metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
              metadata->topics[0].partition_cnt == partitions;
      for (int p = 0; ready && p < metadata->topics[0].partition_cnt; ++p)
        ready = metadata->topics[0].partitions[p].leader >= 0;
      rd_kafka_metadata_destroy(metadata);
    }
    rd_kafka_topic_destroy(handle);
    if (ready) return;
    std::this_thread::sleep_for(milliseconds(50));
  }
  throw std::runtime_error("topic " + topic + " has no leaders after 30 s");
}

void produce(const std::string& bootstrap, const std::string& topic, const std::optional<std::string>& key,
             const std::string& value, int partition, const HeaderList& headers) {
  auto producer = kafka::make_client(RD_KAFKA_PRODUCER, kafka::make_conf({{"bootstrap.servers", bootstrap}}));
  kafka::Headers record_headers(rd_kafka_headers_new(headers.size()));
  for (const auto& [name, v] : headers) rd_kafka_header_add(record_headers.get(), name.c_str(), -1, v.data(), v.size());
  auto err = rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                               RD_KAFKA_V_HEADERS(record_headers.release()),
                               RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
                               RD_KAFKA_V_KEY((key ? key->data() : nullptr), (key ? key->size() : 0)),
                               RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
  if (err) throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(err));
  if (rd_kafka_flush(producer.get(), 30000) != RD_KAFKA_RESP_ERR_NO_ERROR || rd_kafka_outq_len(producer.get()) != 0)
    throw std::runtime_error("produce: not acknowledged within 30 s");
}

std::vector<Record> read_topic(const std::string& bootstrap, const std::string& topic, size_t count,
                               milliseconds deadline, milliseconds settle) {
  auto consumer = kafka::make_client(RD_KAFKA_CONSUMER, kafka::make_conf({{"bootstrap.servers", bootstrap},
                                                                          {"group.id", unique_name("reader")},
                                                                          {"auto.offset.reset", "earliest"},
                                                                          {"enable.auto.commit", "false"}}));
  rd_kafka_poll_set_consumer(consumer.get());
  kafka::PartitionList topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(consumer.get(), topics.get());
  std::vector<Record> records;
  auto end = steady_clock::now() + deadline;
  std::optional<steady_clock::time_point> settle_end;
  for (;;) {
    auto now = steady_clock::now();
    if (settle_end ? now >= *settle_end : now >= end) break;
    kafka::Message m(rd_kafka_consumer_poll(consumer.get(), 100));
    if (m && !m->err) {
      Record r;
      if (m->key) r.key.emplace(static_cast<const char*>(m->key), m->key_len);
      r.value.assign(static_cast<const char*>(m->payload), m->len);
      r.partition = m->partition;
      r.offset = m->offset;
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(m.get(), &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* value;
        size_t size;
        for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
          r.headers.emplace_back(name, std::string(static_cast<const char*>(value), size));
      }
      records.push_back(std::move(r));
    }
    if (records.size() >= count && !settle_end) settle_end = steady_clock::now() + settle;
  }
  rd_kafka_consumer_close(consumer.get());
  return records;
}

int64_t committed_offset(const std::string& bootstrap, const std::string& group, const std::string& topic,
                         int32_t partition) {
  auto consumer = kafka::make_client(RD_KAFKA_CONSUMER,
                                     kafka::make_conf({{"bootstrap.servers", bootstrap}, {"group.id", group}}));
  kafka::PartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
  auto err = rd_kafka_committed(consumer.get(), list.get(), 10000);
  int64_t offset = err == RD_KAFKA_RESP_ERR_NO_ERROR ? list->elems[0].offset : -1;
  rd_kafka_consumer_close(consumer.get());
  return offset < 0 ? -1 : offset;
}

}  // namespace sfmc::test

namespace sfmc::test {

void produce_all(const std::string& bootstrap, const std::string& topic, const std::vector<OutgoingRecord>& records) {
  auto producer = kafka::make_client(RD_KAFKA_PRODUCER, kafka::make_conf({{"bootstrap.servers", bootstrap},
                                                                          {"enable.idempotence", "true"},
                                                                          {"linger.ms", "5"},
                                                                          {"queue.buffering.max.messages", "1000000"}}));
  for (const auto& record : records) {
    const auto& key = record.key;
    rd_kafka_headers_t* headers = rd_kafka_headers_new(record.headers.size());
    for (const auto& [name, value] : record.headers)
      rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                          static_cast<ssize_t>(value.size()));
    auto err = rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                                 RD_KAFKA_V_PARTITION(record.partition < 0 ? RD_KAFKA_PARTITION_UA : record.partition),
                                 RD_KAFKA_V_KEY((key ? key->data() : nullptr), (key ? key->size() : 0)),
                                 RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()), record.value.size()),
                                 RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err) {
      rd_kafka_headers_destroy(headers);  // the producer took them only on success
      throw std::runtime_error(std::string("produce_all: ") + rd_kafka_err2str(err));
    }
    rd_kafka_poll(producer.get(), 0);
  }
  if (rd_kafka_flush(producer.get(), 60000) != RD_KAFKA_RESP_ERR_NO_ERROR || rd_kafka_outq_len(producer.get()) != 0)
    throw std::runtime_error("produce_all: not acknowledged within 60 s");
}

std::vector<int64_t> end_offsets(const std::string& bootstrap, const std::string& topic, int partitions) {
  auto consumer = kafka::make_client(RD_KAFKA_CONSUMER, kafka::make_conf({{"bootstrap.servers", bootstrap},
                                                                          {"group.id", unique_name("watermarks")}}));
  std::vector<int64_t> ends;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = -1, high = -1;
    auto err = rd_kafka_query_watermark_offsets(consumer.get(), topic.c_str(), p, &low, &high, 10000);
    if (err) throw std::runtime_error("end_offsets " + topic + ": " + rd_kafka_err2str(err));
    ends.push_back(high);
  }
  rd_kafka_consumer_close(consumer.get());
  return ends;
}

std::vector<int64_t> committed_offsets(const std::string& bootstrap, const std::string& group,
                                       const std::string& topic, int partitions) {
  // read_uncommitted: the offsets committed so far, without waiting for a
  // transaction that holds more of them (as read_committed asks for).
  auto consumer = kafka::make_client(RD_KAFKA_CONSUMER,
                                     kafka::make_conf({{"bootstrap.servers", bootstrap}, {"group.id", group},
                                                       {"isolation.level", "read_uncommitted"}}));
  kafka::PartitionList list(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p);
  auto err = rd_kafka_committed(consumer.get(), list.get(), 10000);
  std::vector<int64_t> offsets(static_cast<size_t>(partitions), -1);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
    for (int i = 0; i < list->cnt; ++i)
      if (list->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR && list->elems[i].offset >= 0)
        offsets.at(static_cast<size_t>(list->elems[i].partition)) = list->elems[i].offset;
  rd_kafka_consumer_close(consumer.get());
  return offsets;
}

std::vector<Record> read_to_end(const std::string& bootstrap, const std::string& topic, int partitions,
                                milliseconds deadline, bool committed_only) {
  auto ends = end_offsets(bootstrap, topic, partitions);
  auto consumer = kafka::make_client(RD_KAFKA_CONSUMER, kafka::make_conf({{"bootstrap.servers", bootstrap},
                                                                          {"group.id", unique_name("reader")},
                                                                          {"enable.auto.commit", "false"},
                                                                          {"isolation.level", committed_only ? "read_committed" : "read_uncommitted"},
                                                                          {"enable.partition.eof", "true"}}));
  kafka::PartitionList assignment(rd_kafka_topic_partition_list_new(partitions));
  size_t unfinished = 0;
  std::vector<bool> finished(static_cast<size_t>(partitions), false);
  for (int p = 0; p < partitions; ++p) {
    if (ends[static_cast<size_t>(p)] <= 0) continue;
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    ++unfinished;
  }
  std::vector<Record> records;
  if (unfinished == 0) return records;
  if (auto err = rd_kafka_assign(consumer.get(), assignment.get()))
    throw std::runtime_error(std::string("read_to_end: ") + rd_kafka_err2str(err));
  auto end = steady_clock::now() + deadline;
  while (unfinished > 0) {
    if (steady_clock::now() >= end)
      throw std::runtime_error("read_to_end " + topic + ": only " + std::to_string(records.size()) +
                               " records within the deadline");
    kafka::Message m(rd_kafka_consumer_poll(consumer.get(), 100));
    if (!m) continue;
    // The end, as a read_committed reader sees it: a partition of
    // transactional records ends with a commit marker it never receives, and
    // an open transaction holds it back (at the last stable offset) until it
    // ends: the end is reached once the position is past the end offset.
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && !finished[static_cast<size_t>(m->partition)]) {
      kafka::PartitionList position(rd_kafka_topic_partition_list_new(1));
      rd_kafka_topic_partition_list_add(position.get(), topic.c_str(), m->partition);
      if (rd_kafka_position(consumer.get(), position.get()) == RD_KAFKA_RESP_ERR_NO_ERROR &&
          position->elems[0].offset >= ends[static_cast<size_t>(m->partition)]) {
        finished[static_cast<size_t>(m->partition)] = true;
        --unfinished;
      }
    }
    if (m->err) continue;
    Record r;
    if (m->key) r.key.emplace(static_cast<const char*>(m->key), m->key_len);
    r.value.assign(static_cast<const char*>(m->payload), m->len);
    r.partition = m->partition;
    r.offset = m->offset;
    r.headers = kafka::copy_out(m.get()).headers;
    if (m->offset + 1 == ends[static_cast<size_t>(m->partition)] && !finished[static_cast<size_t>(m->partition)]) {
      finished[static_cast<size_t>(m->partition)] = true;
      --unfinished;
    }
    if (m->offset < ends[static_cast<size_t>(m->partition)]) records.push_back(std::move(r));
  }
  rd_kafka_consumer_close(consumer.get());
  return records;
}

}  // namespace sfmc::test
