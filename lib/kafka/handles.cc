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

InboundEvent copy_out(const rd_kafka_message_t* message) {
  InboundEvent event;
  event.input = {rd_kafka_topic_name(message->rkt), message->partition, message->offset};
  if (message->key) event.key.emplace(static_cast<const char*>(message->key), message->key_len);
  if (message->payload) event.value.assign(static_cast<const char*>(message->payload), message->len);
  rd_kafka_timestamp_type_t type;
  event.timestamp_ms = rd_kafka_message_timestamp(message, &type);
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
      event.headers.emplace_back(name, value ? std::string(static_cast<const char*>(value), size) : std::string());
  }
  return event;
}

}  // namespace sfmc::kafka
