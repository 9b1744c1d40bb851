#include "kafka/acked_producer.h"

#include <condition_variable>
#include <memory>
#include <mutex>

#include "kafka/connection_error.h"

namespace sfmc::kafka {
namespace {

// One produce_all() call's records in flight; shared with their delivery
// reports, which may come after the caller gave up waiting.
struct Batch {
  std::mutex mutex;
  std::condition_variable done;
  size_t pending = 0;
  std::string error;  // the first failure
};

}  // namespace

AckedProducer::AckedProducer(Properties properties, LogHook log) : log_(std::move(log)) {
  properties.erase("transactional.id");
  properties["enable.idempotence"] = "true";  // acks=all, no duplicates from retries
  properties.try_emplace("linger.ms", "5");
  properties.try_emplace("compression.type", "lz4");
  Conf conf = make_conf(properties);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &AckedProducer::delivered);
  rd_kafka_conf_set_log_cb(conf.get(), &AckedProducer::logged);
  handle_ = make_client(RD_KAFKA_PRODUCER, std::move(conf));
  poller_ = std::thread([this] {
    while (!stop_) rd_kafka_poll(handle_.get(), 100);
  });
}

AckedProducer::~AckedProducer() {
  rd_kafka_flush(handle_.get(), 5000);
  stop_ = true;
  poller_.join();
  rd_kafka_poll(handle_.get(), 0);  // the last reports free their batches
}

void AckedProducer::logged(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  auto* self = static_cast<AckedProducer*>(rd_kafka_opaque(rk));
  if (self->log_) self->log_(log_level(level, facility, message), facility, message);
}

void AckedProducer::delivered(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  std::unique_ptr<std::shared_ptr<Batch>> batch(static_cast<std::shared_ptr<Batch>*>(message->_private));
  if (!batch) return;
  std::lock_guard lock((*batch)->mutex);
  if (message->err && (*batch)->error.empty()) (*batch)->error = rd_kafka_err2str(message->err);
  if (--(*batch)->pending == 0) (*batch)->done.notify_all();
}

bool AckedProducer::produce_all(const std::string& topic, const std::vector<Record>& records,
                                std::chrono::steady_clock::time_point deadline, std::string& error) {
  auto batch = std::make_shared<Batch>();
  for (const auto& [key, value] : records) {
    auto opaque = std::make_unique<std::shared_ptr<Batch>>(batch);
    {
      std::lock_guard lock(batch->mutex);
      ++batch->pending;
    }
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_producev(handle_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                                    RD_KAFKA_V_KEY(key.data(), key.size()),
                                    RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(opaque.get()),
                                    RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the poller drains the queue
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::lock_guard lock(batch->mutex);
      --batch->pending;
      error = std::string("cannot queue a record for ") + topic + ": " + rd_kafka_err2str(err);
      break;
    }
    (void)opaque.release();  // the delivery report frees it
  }
  std::unique_lock lock(batch->mutex);
  const bool all = batch->done.wait_until(lock, deadline, [&] { return batch->pending == 0; });
  if (!error.empty()) return false;
  if (!all) {
    error = std::to_string(batch->pending) + " of " + std::to_string(records.size()) + " records to " + topic +
            " not acknowledged in time";
    return false;
  }
  if (!batch->error.empty()) {
    error = "Kafka refused a record for " + topic + ": " + batch->error;
    return false;
  }
  return true;
}

}  // namespace sfmc::kafka
