// Exactly-once: the records produced in the open transaction, kept so that
// an aborted transaction can produce them again. Their bytes share one
// buffer, kept across transactions: thousands of small strings held for a
// transaction's length made malloc the largest cost exactly-once added to
// the relay (measured with perf at 0 ms), and here steady state allocates
// nothing.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/event.h"

namespace sfmc {

// Which of the relay's topics a record goes to.
enum class RecordTopic : uint8_t { Outcome, DeadLetter };

class TxnRecords {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  // One record as produced.
  struct Record {
    RecordTopic topic = RecordTopic::Outcome;
    InputCoordinates input;
    int64_t timestamp_ms = -1;
    std::optional<std::string> key;
    std::string value;
    Headers headers;
  };

  void keep(RecordTopic topic, const InputCoordinates& input, int64_t timestamp_ms,
            const std::optional<std::string>& key, std::string_view value, const Headers& headers) {
    Entry entry{topic, partition_index(input), input.offset, timestamp_ms, bytes_.size(), key.has_value(),
                static_cast<uint32_t>(headers.size())};
    put(key ? *key : std::string_view());
    put(value);
    for (const auto& [name, text] : headers) {
      put(name);
      put(text);
    }
    entries_.push_back(entry);
  }

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // Forgets the records; the memory stays for the next transaction.
  void clear() {
    entries_.clear();
    bytes_.clear();
    partitions_.clear();
  }

  // Whether a record came from one of `partitions` (a set of
  // {topic, partition}).
  template <typename Partitions>
  bool any_from(const Partitions& partitions) const {
    for (const auto& entry : entries_)
      if (partitions.count(partitions_[entry.partition]) > 0) return true;
    return false;
  }

  // The records, in the order kept, but those from `dropping` (null: none).
  template <typename Partitions>
  std::vector<Record> take(const Partitions* dropping) {
    std::vector<Record> records;
    records.reserve(entries_.size());
    for (const auto& entry : entries_) {
      const auto& [topic, partition] = partitions_[entry.partition];
      if (dropping && dropping->count(partitions_[entry.partition]) > 0) continue;
      Record& r = records.emplace_back();
      r.topic = entry.topic;
      r.input = {topic, partition, entry.offset};
      r.timestamp_ms = entry.timestamp_ms;
      size_t at = entry.at;
      std::string key(get(at));
      if (entry.has_key) r.key = std::move(key);
      r.value = get(at);
      for (uint32_t i = 0; i < entry.header_count; ++i) {
        std::string name(get(at));
        r.headers.emplace_back(std::move(name), std::string(get(at)));
      }
    }
    clear();
    return records;
  }

 private:
  struct Entry {
    RecordTopic topic;
    uint32_t partition;  // in partitions_
    int64_t offset;
    int64_t timestamp_ms;
    size_t at;  // in bytes_: key, value, then each header's name and value, each after its size
    bool has_key;
    uint32_t header_count;
  };

  uint32_t partition_index(const InputCoordinates& input) {
    for (size_t i = 0; i < partitions_.size(); ++i)
      if (partitions_[i].second == input.partition && partitions_[i].first == input.topic)
        return static_cast<uint32_t>(i);
    partitions_.emplace_back(input.topic, input.partition);
    return static_cast<uint32_t>(partitions_.size() - 1);
  }
  void put(std::string_view text) {
    auto size = static_cast<uint32_t>(text.size());
    bytes_.append(reinterpret_cast<const char*>(&size), sizeof size);
    bytes_.append(text);
  }
  std::string_view get(size_t& at) const {
    uint32_t size;
    std::memcpy(&size, bytes_.data() + at, sizeof size);
    std::string_view text(bytes_.data() + at + sizeof size, size);
    at += sizeof size + size;
    return text;
  }

  std::vector<Entry> entries_;
  std::string bytes_;
  std::vector<std::pair<std::string, int32_t>> partitions_;  // the few input partitions in this transaction
};

}  // namespace sfmc
