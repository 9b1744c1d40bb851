// librdkafka's in-process mock cluster: the zero-setup demo's Kafka (and a
// fault-injection tool). Not a real broker: behaviour is proven on one.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <string>

#include "kafka/handles.h"

namespace sfmc::kafka {

class MockCluster {
 public:
  explicit MockCluster(int brokers = 1);
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  std::string bootstrap_servers() const;
  void create_topic(const std::string& name, int partitions);

 private:
  Handle owner_;  // the mock cluster lives inside this client handle
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

}  // namespace sfmc::kafka
