#include "demo.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>

#include "demo_events.h"
#include "kafka/handles.h"
#include "kafka/mock_cluster.h"

namespace sfmc {

namespace {

constexpr const char* kInputTopic = "sfmc.send";
constexpr const char* kOutcomeTopic = "sfmc.outcomes";

// Each example's record key is its file name, which its outcome carries back.
void produce_examples(const std::string& bootstrap) {
  auto producer = kafka::make_client(RD_KAFKA_PRODUCER, kafka::make_conf({{"bootstrap.servers", bootstrap}}));
  for (const auto& example : demo::kExamples) {
    rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(kInputTopic),
                      RD_KAFKA_V_KEY(example.file.data(), example.file.size()),
                      RD_KAFKA_V_VALUE(const_cast<char*>(example.text.data()), example.text.size()),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
  }
  if (rd_kafka_flush(producer.get(), 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error("demo: could not produce the example events to the mock cluster");
}

std::string member(const rapidjson::Document& doc, const char* name) {
  return doc.IsObject() && doc.HasMember(name) && doc[name].IsString() ? doc[name].GetString() : "";
}

// "outcome 3/8  sms-one.json: accepted transactional.sms.sendOne", then the outcome.
void print_outcome(int n, int total, const std::string& file, const std::string& value) {
  rapidjson::Document doc;
  doc.Parse(value.c_str());
  std::string operation = member(doc, "operation");
  // An event that could not be read names no operation, and its id defaults
  // to where it was read.
  if (operation.empty()) operation = "(unreadable: no operation, id = topic/partition/offset)";
  std::cout << "outcome " << n << "/" << total << "  " << file << ": " << member(doc, "status") << " " << operation
            << "\n  " << value << "\n"
            << std::flush;
}

// Reads the outcome topic until `total` outcomes were printed or time is up.
void print_outcomes(const std::string& bootstrap, int total, std::atomic<bool>& stop) {
  auto consumer = kafka::make_client(RD_KAFKA_CONSUMER, kafka::make_conf({{"bootstrap.servers", bootstrap},
                                                                          {"group.id", "sfmc-relay-demo-printer"},
                                                                          {"log_level", "3"}}));
  kafka::PartitionList partitions(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(partitions.get(), kOutcomeTopic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(consumer.get(), partitions.get());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int seen = 0;
  while (seen < total && !stop && std::chrono::steady_clock::now() < deadline) {
    kafka::Message message(rd_kafka_consumer_poll(consumer.get(), 100));
    if (!message || message->err) continue;
    std::string key = message->key ? std::string(static_cast<const char*>(message->key), message->key_len) : "";
    print_outcome(++seen, total, key, std::string(static_cast<const char*>(message->payload), message->len));
  }
  if (seen < total && !stop) std::cout << "demo: only " << seen << " of " << total << " outcomes arrived in time\n";
  stop = true;
  rd_kafka_consumer_close(consumer.get());
}

}  // namespace

int run_demo(const std::string& auth_url, Logger& log, std::atomic<bool>& stop, const RunRelay& run_relay) {
  kafka::MockCluster cluster(1);
  const std::string bootstrap = cluster.bootstrap_servers();
  cluster.create_topic(kInputTopic, 3);
  cluster.create_topic(kOutcomeTopic, 1);

  produce_examples(bootstrap);
  const auto total = static_cast<int>(demo::kExamples.size());
  const auto broken = std::count_if(demo::kExamples.begin(), demo::kExamples.end(),
                                    [](const auto& example) { return example.file.starts_with("broken/"); });
  std::cout << "demo: the " << total << " events of schemas/examples/ (" << broken
            << " of them in broken/, to be refused) produced to '" << kInputTopic
            << "' on an in-process Kafka mock cluster; relaying to " << auth_url << "\n"
            << std::flush;

  RelayConfig config;
  config.consumer_properties = {{"bootstrap.servers", bootstrap}, {"group.id", "sfmc-relay-demo"}};
  config.producer_properties = {{"bootstrap.servers", bootstrap}};
  config.input_topics = {kInputTopic};
  config.pipeline.outcome_topic = kOutcomeTopic;
  // The simulator's documented demo credentials, not a real secret.
  config.accounts["default"] = AccountConfig{"default", auth_url, "sim-client", "sim-secret", std::nullopt, std::nullopt};
  config.log_level = LogLevel::Warning;
  config.admin_listen = "127.0.0.1:0";
  log.set_level(config.log_level);

  std::thread printer(print_outcomes, bootstrap, total, std::ref(stop));
  int rc = run_relay(config, stop);
  stop = true;
  printer.join();
  std::cout << "demo: done\n";
  return rc;
}

}  // namespace sfmc
