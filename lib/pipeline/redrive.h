// Dead letters back to the topic they were read from (or another): the
// records filters choose, as they came, with the event's identity, so that a
// send that had gone through is refused by SFMC as a duplicate instead of
// made twice. The records and the redrive group's positions go in one Kafka
// transaction: a redrive killed and started again publishes each record once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/event.h"
#include "kafka/publisher.h"
#include "kafka/topic_reader.h"

namespace sfmc {

// What a dead letter's headers and value say about it.
struct DeadLetter {
  std::string status;  // invalid | rejected | failed
  std::string error;   // the first error's message
  std::optional<int64_t> error_code;
  std::optional<int64_t> http_status;
  std::string input_topic;  // where the event was read
  std::string operation;    // from the event; empty when it has none
  std::string account;      // from the event; "default" when it names none
  int64_t time_ms = -1;     // the dead letter's record time
};

// The record's dead letter, or nullopt with `why` when the record lacks the
// headers sfmc-relay writes (not a dead letter of ours).
std::optional<DeadLetter> read_dead_letter(const InboundEvent& record, std::string& why);

// Every filter that is set must match; an empty set matches anything.
struct RedriveFilter {
  std::set<std::string> statuses;
  std::set<int64_t> error_codes;  // the SFMC error code, or SFMC's HTTP status
  std::set<std::string> operations;
  std::set<std::string> accounts;
  std::optional<int64_t> since_ms;  // record time at or after
  std::optional<int64_t> until_ms;  // record time before
  bool matches(const DeadLetter& letter) const;
};

// The redriven record's headers: the event's own, without the failure
// headers, with the event id kept and where it came from added.
std::vector<std::pair<std::string, std::string>> redriven_headers(const InboundEvent& record, const DeadLetter& letter);

struct RedriveOptions {
  RedriveFilter filter;
  std::string to_topic;                                  // empty: each record back to the topic it was read from
  std::optional<uint64_t> limit;                         // records chosen at most
  bool dry_run = false;                                  // read and count; publish and commit nothing
  size_t transaction_records = 5000;                     // a transaction ends after this many records
  std::chrono::milliseconds transaction_interval{1000};  // or after this long
};

struct RedriveProgress {
  uint64_t read = 0;
  uint64_t chosen = 0;
  uint64_t published = 0;         // committed
  uint64_t not_dead_letters = 0;  // records without the failure headers, skipped
  int64_t remaining = 0;          // records left before the end
};

class Redrive {
 public:
  // KafkaFailure: the cluster failed or a topic does not exist (error() says which).
  enum class Result { Done, NothingChosen, Stopped, KafkaFailure, Fenced };
  using Say = std::function<void(const std::string& line)>;

  // `publisher` (transactional) is not used in a dry run and may be null then.
  Redrive(kafka::TopicReader& reader, kafka::Publisher* publisher, RedriveOptions options, Say say);

  // Reads to the end, or to the limit, or until `stop`; `progress` is called
  // about twice a second. `error` holds the reason of a failure.
  Result run(const std::atomic<bool>& stop, const std::function<void(const RedriveProgress&)>& progress);

  const RedriveProgress& progress() const { return progress_; }
  const std::string& error() const { return error_; }
  // Chosen records by status, error (code and message) and operation.
  using Row = std::tuple<std::string, std::string, std::string>;
  const std::map<Row, uint64_t>& table() const { return table_; }

 private:
  Result read_on(const std::atomic<bool>& stop, const std::function<void(const RedriveProgress&)>& progress);
  bool publish(const InboundEvent& record, const DeadLetter& letter);
  bool target_exists(const std::string& topic);
  Result commit();
  Result fail(Result result, std::string error);

  kafka::TopicReader& reader_;
  kafka::Publisher* publisher_;
  RedriveOptions options_;
  Say say_;
  RedriveProgress progress_;
  std::map<Row, uint64_t> table_;
  std::string error_;
  std::set<std::string> known_topics_;
  kafka::PartitionList committed_;    // the positions the last transaction committed
  uint64_t in_transaction_ = 0;       // records published in the open transaction
  uint64_t read_in_transaction_ = 0;  // records read since the last commit
  int aborts_ = 0;                    // transactions aborted in a row
  bool rewound_ = false;              // the last commit aborted: read again from committed_
  bool transaction_open_ = false;
  std::chrono::steady_clock::time_point transaction_began_{};
};

}  // namespace sfmc
