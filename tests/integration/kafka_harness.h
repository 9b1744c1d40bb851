// Test-side Kafka helpers for the real broker the ctest fixture starts:
// topics, producing, reading a topic back, and committed offsets.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sfmc::test {

// The fixture's bootstrap address (from SFMC_TEST_BOOTSTRAP_FILE).
std::string broker_bootstrap();
// The fixture broker's state folder (beside SFMC_TEST_BOOTSTRAP_FILE): its
// secure listeners' addresses (bootstrap-sasl-ssl, bootstrap-ssl) and the
// throwaway CA, certificates and SCRAM password under tls/ (tests/kafka/broker).
std::filesystem::path broker_state_dir();

// A name no earlier test run used: tests never share topics or groups.
std::string unique_name(const std::string& prefix);

void create_topic(const std::string& bootstrap, const std::string& topic, int partitions);

// Sets one of a topic's configs (IncrementalAlterConfigs), e.g. max.message.bytes.
void set_topic_config(const std::string& bootstrap, const std::string& topic, const std::string& name,
                      const std::string& value);

using HeaderList = std::vector<std::pair<std::string, std::string>>;

void produce(const std::string& bootstrap, const std::string& topic, const std::optional<std::string>& key,
             const std::string& value, int partition = -1, const HeaderList& headers = {});

struct Record {
  std::optional<std::string> key;
  std::string value;
  int32_t partition = 0;
  int64_t offset = 0;
  HeaderList headers;
};

// Reads `topic` from the beginning until `count` records arrived or the
// deadline passed, then keeps reading for `settle` to catch extra records.
std::vector<Record> read_topic(const std::string& bootstrap, const std::string& topic, size_t count,
                               std::chrono::milliseconds deadline,
                               std::chrono::milliseconds settle = std::chrono::milliseconds(0));

// The group's committed offset for a partition; -1 when none.
int64_t committed_offset(const std::string& bootstrap, const std::string& group, const std::string& topic,
                         int32_t partition);

// Many records through one idempotent producer, in order (so each
// partition holds them in the order given); returns once all are acknowledged.
struct OutgoingRecord {
  std::optional<std::string> key;
  std::string value;
  int partition = -1;  // -1: the partitioner picks
  HeaderList headers;
};
void produce_all(const std::string& bootstrap, const std::string& topic, const std::vector<OutgoingRecord>& records);

// The high watermark (next offset to be written) of each partition 0..partitions-1.
std::vector<int64_t> end_offsets(const std::string& bootstrap, const std::string& topic, int partitions);

// The group's committed offsets of partitions 0..partitions-1 (-1: none), in one request.
std::vector<int64_t> committed_offsets(const std::string& bootstrap, const std::string& group,
                                       const std::string& topic, int partitions);

// Every record the topic holds now: reads each partition from the start up to
// the end offset it had when called. Throws when that takes longer than `deadline`.
// As a read_committed reader sees it (`committed_only`), else every record.
std::vector<Record> read_to_end(const std::string& bootstrap, const std::string& topic, int partitions,
                                std::chrono::milliseconds deadline, bool committed_only = true);

}  // namespace sfmc::test
