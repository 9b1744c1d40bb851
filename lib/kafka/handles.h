// unique_ptr aliases with stateless deleters for every librdkafka handle we
// hold. Call .release() only after a librdkafka call took ownership.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/event.h"

namespace sfmc::kafka {

struct Deleter {
  void operator()(rd_kafka_t* p) const { rd_kafka_destroy(p); }
  void operator()(rd_kafka_conf_t* p) const { rd_kafka_conf_destroy(p); }
  void operator()(rd_kafka_message_t* p) const { rd_kafka_message_destroy(p); }
  void operator()(rd_kafka_topic_partition_list_t* p) const { rd_kafka_topic_partition_list_destroy(p); }
  void operator()(rd_kafka_headers_t* p) const { rd_kafka_headers_destroy(p); }
  void operator()(rd_kafka_queue_t* p) const { rd_kafka_queue_destroy(p); }
  void operator()(rd_kafka_event_t* p) const { rd_kafka_event_destroy(p); }
  void operator()(rd_kafka_NewTopic_t* p) const { rd_kafka_NewTopic_destroy(p); }
  void operator()(rd_kafka_AdminOptions_t* p) const { rd_kafka_AdminOptions_destroy(p); }
  void operator()(rd_kafka_error_t* p) const { rd_kafka_error_destroy(p); }
  void operator()(rd_kafka_consumer_group_metadata_t* p) const { rd_kafka_consumer_group_metadata_destroy(p); }
};

using Handle = std::unique_ptr<rd_kafka_t, Deleter>;
using Conf = std::unique_ptr<rd_kafka_conf_t, Deleter>;
using Message = std::unique_ptr<rd_kafka_message_t, Deleter>;
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, Deleter>;
using Headers = std::unique_ptr<rd_kafka_headers_t, Deleter>;
using Queue = std::unique_ptr<rd_kafka_queue_t, Deleter>;
using Event = std::unique_ptr<rd_kafka_event_t, Deleter>;
using NewTopic = std::unique_ptr<rd_kafka_NewTopic_t, Deleter>;
using AdminOptions = std::unique_ptr<rd_kafka_AdminOptions_t, Deleter>;
using Error = std::unique_ptr<rd_kafka_error_t, Deleter>;
using GroupMetadata = std::unique_ptr<rd_kafka_consumer_group_metadata_t, Deleter>;

using Properties = std::map<std::string, std::string>;

// librdkafka refused a property, or a combination of them: the operator's
// configuration is wrong, not the machine.
struct PropertyError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// A configuration with every property set; throws PropertyError naming the
// property librdkafka refused (start-up only).
Conf make_conf(const Properties& properties);

// Creates the client; throws PropertyError with librdkafka's reason (it
// refuses a client only over its configuration).
Handle make_client(rd_kafka_type_t type, Conf conf);

// Copies a record out of librdkafka (key, value, headers, timestamp), so
// nothing downstream holds a rd_kafka_message_t.
InboundEvent copy_out(const rd_kafka_message_t* message);

// The librdkafka the process runs with ("2.15.0").
inline const char* library_version() { return rd_kafka_version_str(); }

}  // namespace sfmc::kafka
