#include "kafka/consumer.h"

#include <syslog.h>

#include <stdexcept>

namespace sfmc::kafka {

void Consumer::log_trampoline(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  auto* self = static_cast<Consumer*>(rd_kafka_opaque(rk));
  if (self->log_) self->log_(level, facility, message);
}

Consumer::Consumer(Properties properties, const std::vector<std::string>& topics, LogHook log, StatsHook stats)
    : log_(std::move(log)), stats_(std::move(stats)) {
  // At-least-once: an offset is stored only after its outcome is acknowledged
  // (store_finished_offsets); auto-commit then sends what was stored.
  properties["enable.auto.offset.store"] = "false";
  properties["enable.auto.commit"] = "true";
  // Frequent commits keep what a crash would re-deliver small: the engine's
  // window counts events not yet covered by a confirmed commit.
  properties.try_emplace("auto.commit.interval.ms", "100");
  properties.try_emplace("auto.offset.reset", "earliest");
  properties.try_emplace("enable.partition.eof", "false");
  Conf conf = make_conf(properties);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &Consumer::rebalance_trampoline);
  rd_kafka_conf_set_offset_commit_cb(conf.get(), &Consumer::commit_trampoline);
  rd_kafka_conf_set_log_cb(conf.get(), &Consumer::log_trampoline);
  if (stats_) rd_kafka_conf_set_stats_cb(conf.get(), &Consumer::stats_trampoline);
  handle_ = make_client(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(handle_.get());

  PartitionList subscription(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const auto& topic : topics) rd_kafka_topic_partition_list_add(subscription.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (auto err = rd_kafka_subscribe(handle_.get(), subscription.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error(std::string("cannot subscribe: ") + rd_kafka_err2str(err));
}

Consumer::~Consumer() { close(); }

void Consumer::commit_trampoline(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                                 void* opaque) {
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR || offsets == nullptr) return;
  auto* self = static_cast<Consumer*>(opaque);
  for (int i = 0; i < offsets->cnt; ++i) {
    const auto& p = offsets->elems[i];
    if (p.err == RD_KAFKA_RESP_ERR_NO_ERROR && p.offset >= 0) self->tracker_.committed(p.topic, p.partition, p.offset);
  }
}

int Consumer::stats_trampoline(rd_kafka_t*, char* json, size_t, void* opaque) {
  static_cast<Consumer*>(opaque)->stats_(json);
  return 0;  // librdkafka frees the JSON
}

void Consumer::rebalance_trampoline(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                                    void* opaque) {
  static_cast<Consumer*>(opaque)->rebalance(err, parts);
}

void Consumer::rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    rd_kafka_assign(handle_.get(), parts);
    assigned_ = true;
    brokers_up_ = true;
    assigned_partitions_ = static_cast<size_t>(parts->cnt);
    if (paused_) rd_kafka_pause_partitions(handle_.get(), parts);
    if (log_) log_(LOG_INFO, "REBALANCE", "assigned " + std::to_string(parts->cnt) + " partition(s)");
    return;
  }
  // Revoke: finish what we hold, commit it while we still own the
  // partitions, then let them go.
  if (revoke_hook_) revoke_hook_();
  store_finished_offsets();
  commit_now();
  for (int i = 0; i < parts->cnt; ++i) tracker_.forget(parts->elems[i].topic, parts->elems[i].partition);
  rd_kafka_assign(handle_.get(), nullptr);
  assigned_ = false;
  assigned_partitions_ = 0;
  if (log_) log_(LOG_INFO, "REBALANCE", "revoked " + std::to_string(parts->cnt) + " partition(s)");
}

std::optional<InboundEvent> Consumer::poll(std::chrono::milliseconds timeout) {
  Message message(rd_kafka_consumer_poll(handle_.get(), static_cast<int>(timeout.count())));
  if (!message) return std::nullopt;
  if (message->err) {
    if (message->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) brokers_up_ = false;
    if (log_) log_(LOG_WARNING, "CONSUME", rd_kafka_message_errstr(message.get()));
    return std::nullopt;
  }
  brokers_up_ = true;
  InboundEvent event;
  event.input = {rd_kafka_topic_name(message->rkt), message->partition, message->offset};
  if (message->key) event.key.emplace(static_cast<const char*>(message->key), message->key_len);
  if (message->payload) event.value.assign(static_cast<const char*>(message->payload), message->len);
  rd_kafka_timestamp_type_t type;
  event.timestamp_ms = rd_kafka_message_timestamp(message.get(), &type);
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(message.get(), &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
      event.headers.emplace_back(name, value ? std::string(static_cast<const char*>(value), size) : std::string());
  }
  tracker_.begin(event.input.topic, event.input.partition, event.input.offset);
  return event;
}

void Consumer::store_finished_offsets() {
  auto moved = tracker_.take_committable();
  if (moved.empty()) return;
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(moved.size())));
  for (const auto& [key, position] : moved)
    rd_kafka_topic_partition_list_add(list.get(), key.first.c_str(), key.second)->offset = position;
  if (auto err = rd_kafka_offsets_store(handle_.get(), list.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR && log_)
    log_(LOG_WARNING, "OFFSET", std::string("offset store failed: ") + rd_kafka_err2str(err));
}

void Consumer::commit_now() {
  auto err = rd_kafka_commit(handle_.get(), nullptr, /*async=*/0);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET && log_)
    log_(LOG_WARNING, "COMMIT", std::string("commit failed: ") + rd_kafka_err2str(err));
}

void Consumer::pause(bool paused) {
  if (paused == paused_) return;
  paused_ = paused;
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(handle_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  PartitionList assignment(raw);
  if (paused)
    rd_kafka_pause_partitions(handle_.get(), assignment.get());
  else
    rd_kafka_resume_partitions(handle_.get(), assignment.get());
}

void Consumer::wake_on(int fd) {
  Queue queue(rd_kafka_queue_get_consumer(handle_.get()));
  rd_kafka_queue_io_event_enable(queue.get(), fd, "c", 1);
}

void Consumer::close() {
  if (closed_ || !handle_) return;
  closed_ = true;
  store_finished_offsets();
  rd_kafka_consumer_close(handle_.get());  // runs the revoke path, which commits
}

}  // namespace sfmc::kafka
