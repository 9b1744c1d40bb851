// A producer for callers on several threads that each wait for their own
// records: produce_all() queues a batch and returns once the brokers have
// acknowledged every record of it (idempotent, acks=all) or its deadline
// has passed. A thread of its own serves librdkafka's delivery reports.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "kafka/handles.h"

namespace sfmc::kafka {

class AckedProducer {
 public:
  using LogHook = std::function<void(int level, const std::string& facility, const std::string& message)>;
  using Record = std::pair<std::string, std::string>;  // key, value

  // Throws PropertyError when librdkafka refuses the properties.
  AckedProducer(Properties properties, LogHook log);
  ~AckedProducer();  // waits up to 5 s for what is queued
  AckedProducer(const AckedProducer&) = delete;
  AckedProducer& operator=(const AckedProducer&) = delete;

  // True when every record is on `topic`, acknowledged, before `deadline`;
  // else false with `error` (the first failure, or the time out). Records
  // not acknowledged by then may still land later.
  bool produce_all(const std::string& topic, const std::vector<Record>& records,
                   std::chrono::steady_clock::time_point deadline, std::string& error);

 private:
  static void delivered(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  static void logged(const rd_kafka_t* rk, int level, const char* facility, const char* message);

  LogHook log_;
  Handle handle_;
  std::atomic<bool> stop_{false};
  std::thread poller_;
};

}  // namespace sfmc::kafka
