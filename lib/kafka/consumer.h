// The input side: a consumer-group member that hands out InboundEvents and
// stores offsets only when told the work for them is done.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "kafka/handles.h"
#include "kafka/offset_tracker.h"

namespace sfmc::kafka {

class Consumer {
 public:
  // Called inside poll() when partitions are about to be revoked, before the
  // final commit: the owner must finish (or give up) the work it holds for them.
  using RevokeHook = std::function<void()>;
  using LogHook = std::function<void(int level, const std::string& facility, const std::string& message)>;
  // librdkafka's statistics JSON (every statistics.interval.ms), on its thread.
  using StatsHook = std::function<void(const char* json)>;

  // `properties` must contain bootstrap.servers and group.id; the offset
  // settings that at-least-once depends on are forced here.
  Consumer(Properties properties, const std::vector<std::string>& topics, LogHook log, StatsHook stats = {});
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  void on_revoke(RevokeHook hook) { revoke_hook_ = std::move(hook); }

  // One event, or nullopt on timeout. Consumer-level errors (broker down,
  // topic missing) are logged and reported as nullopt; fatal ones throw.
  std::optional<InboundEvent> poll(std::chrono::milliseconds timeout);

  OffsetTracker& offsets() { return tracker_; }
  // Hands finished positions to librdkafka; its auto-commit sends them.
  void store_finished_offsets();
  // Synchronous commit of everything stored (revoke, shutdown).
  void commit_now();
  // Leaves the group (after the owner has finished its work).
  void close();

  bool assigned() const { return assigned_; }
  size_t assigned_partitions() const { return assigned_partitions_; }
  // False after librdkafka reported every broker down, until a broker answers.
  bool brokers_up() const { return brokers_up_; }

  // Stops (or restarts) fetching from every assigned partition: the engine's
  // backpressure. Fetched-but-unread records are dropped and read again.
  void pause(bool paused);
  bool paused() const { return paused_; }

  // Writes a byte to `fd` whenever records or events arrive, so one poll()
  // can wait on Kafka and HTTP together.
  void wake_on(int fd);

 private:
  static void rebalance_trampoline(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                                   void* opaque);
  static void commit_trampoline(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                                void* opaque);
  static int stats_trampoline(rd_kafka_t* rk, char* json, size_t length, void* opaque);
  static void log_trampoline(const rd_kafka_t* rk, int level, const char* facility, const char* message);
  void rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);

  LogHook log_;
  StatsHook stats_;
  RevokeHook revoke_hook_;
  OffsetTracker tracker_;
  Handle handle_;
  bool assigned_ = false;
  bool closed_ = false;
  bool paused_ = false;
  bool brokers_up_ = false;
  size_t assigned_partitions_ = 0;
};

}  // namespace sfmc::kafka
