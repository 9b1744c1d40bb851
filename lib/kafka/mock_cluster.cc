#include "kafka/mock_cluster.h"

#include <stdexcept>

namespace sfmc::kafka {

MockCluster::MockCluster(int brokers) {
  owner_ = make_client(RD_KAFKA_PRODUCER, make_conf({{"log_level", "3"}}));
  cluster_ = rd_kafka_mock_cluster_new(owner_.get(), brokers);
  if (!cluster_) throw std::runtime_error("cannot create the librdkafka mock cluster");
}

MockCluster::~MockCluster() {
  if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
}

std::string MockCluster::bootstrap_servers() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }

void MockCluster::create_topic(const std::string& name, int partitions) {
  if (auto err = rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 1); err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error("mock topic " + name + ": " + rd_kafka_err2str(err));
}

}  // namespace sfmc::kafka
