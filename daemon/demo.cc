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
constexpr const char* kDeliveryTopic = "sfmc.deliveries";

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

// ENS records to expect for an outcome: the simulator's feed posts SmsSent
// and SmsDelivered for each accepted SMS messageKey, EmailSent for each email.
int ens_records_for(const std::string& value) {
  rapidjson::Document doc;
  doc.Parse(value.c_str());
  if (member(doc, "status") != "accepted" || !doc.HasMember("messageKeys") || !doc["messageKeys"].IsArray()) return 0;
  const std::string operation = member(doc, "operation");
  const int per_key = operation.starts_with("transactional.sms.")     ? 2
                      : operation.starts_with("transactional.email.") ? 1
                                                                      : 0;
  return per_key * static_cast<int>(doc["messageKeys"].Size());
}

// "delivery 2/8  order-4711-sms-1: delivered (ens TransactionalSendEvents.SmsDelivered)", then the record.
void print_delivery(int n, int total, const std::string& value) {
  rapidjson::Document doc;
  doc.Parse(value.c_str());
  std::string type;
  const auto sfmc = doc.IsObject() ? doc.FindMember("sfmc") : doc.MemberEnd();
  if (doc.IsObject() && sfmc != doc.MemberEnd() && sfmc->value.IsObject()) {
    auto it = sfmc->value.FindMember("eventCategoryType");
    if (it != sfmc->value.MemberEnd() && it->value.IsString()) type = it->value.GetString();
  }
  std::cout << "delivery " << n << "/" << total << "  " << member(doc, "messageKey") << ": " << member(doc, "state")
            << " (" << member(doc, "source") << " " << type << ")\n  " << value << "\n"
            << std::flush;
}

kafka::Handle assigned_from_start(const std::string& bootstrap, const char* topic) {
  auto consumer = kafka::make_client(RD_KAFKA_CONSUMER, kafka::make_conf({{"bootstrap.servers", bootstrap},
                                                                          {"group.id", "sfmc-relay-demo-printer"},
                                                                          {"log_level", "3"}}));
  kafka::PartitionList partitions(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(partitions.get(), topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(consumer.get(), partitions.get());
  return consumer;
}

// Reads the outcome topic until `total` outcomes were printed, then (with
// ENS) the delivery topic until every record the outcomes promise was
// printed, or time is up.
void print_outcomes(const std::string& bootstrap, int total, bool ens, std::atomic<bool>& stop) {
  auto outcomes = assigned_from_start(bootstrap, kOutcomeTopic);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int seen = 0, deliveries = 0;
  while (seen < total && !stop && std::chrono::steady_clock::now() < deadline) {
    kafka::Message message(rd_kafka_consumer_poll(outcomes.get(), 100));
    if (!message || message->err) continue;
    std::string key = message->key ? std::string(static_cast<const char*>(message->key), message->key_len) : "";
    std::string value(static_cast<const char*>(message->payload), message->len);
    deliveries += ens_records_for(value);
    print_outcome(++seen, total, key, value);
  }
  rd_kafka_consumer_close(outcomes.get());
  if (seen < total && !stop) std::cout << "demo: only " << seen << " of " << total << " outcomes arrived in time\n";
  if (ens && seen == total && !stop) {
    std::cout << "demo: " << deliveries << " delivery records to come by push (SFMC's ENS, from the simulator) on '"
              << kDeliveryTopic << "'\n"
              << std::flush;
    auto records = assigned_from_start(bootstrap, kDeliveryTopic);
    int printed = 0;
    while (printed < deliveries && !stop && std::chrono::steady_clock::now() < deadline) {
      kafka::Message message(rd_kafka_consumer_poll(records.get(), 100));
      if (!message || message->err) continue;
      print_delivery(++printed, deliveries, std::string(static_cast<const char*>(message->payload), message->len));
    }
    rd_kafka_consumer_close(records.get());
    if (printed < deliveries && !stop)
      std::cout << "demo: only " << printed << " of " << deliveries << " delivery records arrived in time\n";
  }
  stop = true;
}

}  // namespace

int run_demo(const std::string& auth_url, const std::string& ens_listen, Logger& log, std::atomic<bool>& stop,
             const RunRelay& run_relay) {
  kafka::MockCluster cluster(1);
  const std::string bootstrap = cluster.bootstrap_servers();
  cluster.create_topic(kInputTopic, 3);
  cluster.create_topic(kOutcomeTopic, 1);
  cluster.create_topic(kDeliveryTopic, 1);

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
  config.accounts["default"] =
      AccountConfig{"default", auth_url, "sim-client", "sim-secret", std::nullopt, std::nullopt};
  config.log_level = LogLevel::Warning;
  config.admin_listen = "127.0.0.1:0";
  if (!ens_listen.empty()) {
    config.ens.listen = ens_listen;
    config.ens.topic = kDeliveryTopic;
    config.ens.receiver.signature_keys = {kDemoEnsKey};
  }
  log.set_level(config.log_level);

  std::thread printer(print_outcomes, bootstrap, total, !ens_listen.empty(), std::ref(stop));
  int rc = run_relay(config, stop);
  stop = true;
  printer.join();
  std::cout << "demo: done\n";
  return rc;
}

}  // namespace sfmc
