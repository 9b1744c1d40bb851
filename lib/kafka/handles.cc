#include "kafka/handles.h"

namespace sfmc::kafka {

Conf make_conf(const Properties& properties) {
  Conf conf(rd_kafka_conf_new());
  char error[512];
  for (const auto& [name, value] : properties) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK)
      throw PropertyError("Kafka property '" + name + "': " + error);
  }
  return conf;
}

Handle make_client(rd_kafka_type_t type, Conf conf) {
  char error[512];
  Handle handle(rd_kafka_new(type, conf.get(), error, sizeof error));
  if (!handle) throw PropertyError(std::string("librdkafka refused the Kafka properties: ") + error);
  (void)conf.release();  // rd_kafka_new took ownership on success
  return handle;
}

}  // namespace sfmc::kafka
