// The output side: an idempotent producer for outcome records that reports,
// per record, when the broker has acknowledged it; with a transactional.id,
// also Kafka transactions (exactly-once mode).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/event.h"
#include "kafka/handles.h"

namespace sfmc::kafka {

class Publisher {
 public:
  // Called from poll()/flush() on the caller's thread, once per record, with
  // the coordinates and timestamp given to publish(). `error` is empty on
  // success.
  using Delivered =
      std::function<void(const InputCoordinates& input, int64_t event_timestamp_ms, const std::string& error)>;
  using LogHook = std::function<void(int level, const std::string& facility, const std::string& message)>;

  explicit Publisher(Properties properties, LogHook log);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  enum class Queued { Ok, QueueFull, Failed };
  // Queues one record. QueueFull: poll and try again; Failed: `error` says why.
  Queued publish(std::string& error, const std::string& topic, const std::optional<std::string>& key,
                 const std::string& value, const std::vector<std::pair<std::string, std::string>>& headers,
                 const InputCoordinates& input, int64_t event_timestamp_ms = -1);

  // Transactions (transactional.id set). What the caller does next:
  //   Ok      go on;            Retry  call the same step again (it resumes);
  //   Abort   abort_transaction(), then produce the transaction's records again;
  //   Fatal   stop without committing; Fenced: the same, because another
  //           producer with this transactional.id took over.
  enum class Txn { Ok, Retry, Abort, Fatal, Fenced };
  struct TxnResult {
    Txn result = Txn::Ok;
    std::string error;
  };
  TxnResult init_transactions(std::chrono::milliseconds timeout);
  TxnResult begin_transaction();
  // The consumer's positions, committed with the transaction (KIP-447: the
  // group metadata fences a member that lost its partitions).
  TxnResult send_offsets(const rd_kafka_topic_partition_list_t* positions, const rd_kafka_consumer_group_metadata_t* group,
                         std::chrono::milliseconds timeout);
  TxnResult commit_transaction(std::chrono::milliseconds timeout);
  TxnResult abort_transaction(std::chrono::milliseconds timeout);
  // The producer's fatal error (e.g. fenced), if it has one.
  std::optional<TxnResult> fatal_error() const;

  void on_delivered(Delivered delivered) { delivered_ = std::move(delivered); }
  void poll(std::chrono::milliseconds timeout);
  // Waits for every queued record; returns how many are still unacknowledged.
  int flush(std::chrono::milliseconds timeout);
  int queued() const;
  // Writes a byte to `fd` when delivery reports are waiting for poll().
  void wake_on(int fd);

 private:
  static void delivery_trampoline(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  static void log_trampoline(const rd_kafka_t* rk, int level, const char* facility, const char* message);

  Delivered delivered_;
  LogHook log_;
  Handle handle_;
};

}  // namespace sfmc::kafka
