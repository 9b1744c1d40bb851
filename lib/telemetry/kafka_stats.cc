#include "telemetry/kafka_stats.h"

#include <rapidjson/document.h>

#include <cstdlib>

namespace sfmc {

void record_consumer_lag(const char* statistics_json, Metrics& metrics) {
  rapidjson::Document doc;
  doc.Parse(statistics_json);
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("topics") || !doc["topics"].IsObject()) return;
  for (const auto& topic : doc["topics"].GetObject()) {
    auto partitions = topic.value.FindMember("partitions");
    if (partitions == topic.value.MemberEnd() || !partitions->value.IsObject()) continue;
    for (const auto& partition : partitions->value.GetObject()) {
      int id = std::atoi(partition.name.GetString());
      auto lag = partition.value.FindMember("consumer_lag");
      if (id < 0 || lag == partition.value.MemberEnd() || !lag->value.IsInt64() || lag->value.GetInt64() < 0) continue;
      metrics.set_lag(topic.name.GetString(), id, static_cast<double>(lag->value.GetInt64()));
    }
  }
}

}  // namespace sfmc
