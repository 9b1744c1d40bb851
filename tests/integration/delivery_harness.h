// What the delivery tests count with: a workload of numbered send events
// over many keys and partitions; the outcomes and the simulator requests it
// produced, counted per event; the daemon's /metrics; polling with a
// deadline; and a Kafka broker of a test's own (to restart it).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "kafka_harness.h"
#include "relay_fixture.h"
#include "sim_server.h"

namespace sfmc::test {

// Event i has key i % keys, is that key's event number i / keys (its
// sequence), goes to partition key % partitions and is a one-recipient
// transactional.sms.send with the id "k<key>-s<sequence>". Produced in index
// order, so each key's events sit in its partition in sequence order.
class Workload {
 public:
  Workload(int events, int keys, int partitions);

  int events() const { return events_; }
  int keys() const { return keys_; }
  int partitions() const { return partitions_; }
  int key_of(int i) const { return i % keys_; }
  int sequence_of(int i) const { return i / keys_; }
  int partition_of(int i) const { return key_of(i) % partitions_; }
  std::string id(int i) const;
  std::string message_key(int i) const;  // the one the relay derives for the recipient
  std::vector<OutgoingRecord> records() const;

  std::optional<int> index_of_id(const std::string& id) const;
  std::optional<int> index_of_message_key(const std::string& key) const;

 private:
  int events_, keys_, partitions_;
  std::unordered_map<std::string, int> by_id_;
  std::unordered_map<std::string, int> by_message_key_;
};

// The outcome topic, counted per workload event.
struct OutcomeTally {
  std::vector<int> outcomes;  // per event
  size_t foreign = 0;         // outcomes of no workload event
  size_t not_accepted = 0;    // status other than accepted
  size_t wrong_fields = 0;    // key, messageKeys or input coordinates not the event's
  std::string first_problem;  // one outcome of the two above, for the failure message
  // Per input partition: the input offsets the outcomes name, with repeats.
  std::map<int32_t, std::vector<int64_t>> input_offsets;
  // The input partition of each outcome, in the outcome topic's order.
  std::vector<int32_t> partition_order;

  size_t lost() const;        // events without an outcome
  size_t duplicated() const;  // events with more than one
};
// `input_topic`: the topic every outcome's "input" must name.
OutcomeTally tally_outcomes(const Workload& workload, const std::vector<Record>& outcomes,
                            const std::string& input_topic);

// The messageKeys a recorded send carried, one per recipient in order: each
// recipients[].messageKey of a batch route ("" where a recipient has none),
// or the key in a single route's path (as sent, percent-encoded).
std::vector<std::string> recipient_keys(const sim::RecordedRequest& send);

// The send requests the simulator recorded, per workload event and key. A
// request may carry several events (coalescing): each recipient counts for
// the event whose messageKey it has.
struct SendTally {
  std::vector<int> sends;                        // per event: recipients sent with its messageKey
  std::vector<std::vector<int>> sequence_order;  // per key: sequences in arrival order
  size_t foreign = 0;  // recipients naming no workload event's messageKey, or sent elsewhere than the SMS batch route
  size_t events_sent_more_than_once() const;
};
SendTally tally_sends(const Workload& workload, const std::vector<sim::RecordedRequest>& sends);

// Send requests (every route but the token route) the simulator counted,
// all of them or those answered with `status` (0: no HTTP answer).
uint64_t send_requests(const sim::StatsSnapshot& stats, std::optional<int> status = std::nullopt);

// Every sample of the daemon's /metrics page, by series as printed
// (`name` or `name{label="v",...}`); empty when the page cannot be fetched.
std::map<std::string, double> scrape_metrics(int admin_port);

// Calls `done` until it returns true or `deadline` passed; returns its last answer.
bool eventually(std::chrono::milliseconds deadline, const std::function<bool()>& done,
                std::chrono::milliseconds interval = std::chrono::milliseconds(50));

// Offsets as "[a,b,...]".
std::string show(const std::vector<int64_t>& offsets);
// Produces the workload and returns the input's end offsets (REQUIREs all arrived).
std::vector<int64_t> produce_workload(const RelayUnderTest& relay, const Workload& workload);
// Polls until the group has committed every input partition up to `ends`
// (says what it saw when not).
bool all_committed(const RelayUnderTest& relay, const std::vector<int64_t>& ends, std::chrono::milliseconds deadline);
// Waits (REQUIRE) until the simulator has accepted `count` messageKeys, one
// per event: "the middle of the run". Counted in recipients, not requests:
// the relay merges waiting sends into batch calls.
void wait_for_accepted(const RelayUnderTest& relay, size_t count,
                       std::chrono::milliseconds deadline = std::chrono::seconds(120));

// A single-node broker of one test's own (tests/kafka/broker), so that test
// can restart it without disturbing the shared one. Stopped by the destructor.
class OwnBroker {
 public:
  OwnBroker();
  ~OwnBroker();
  OwnBroker(const OwnBroker&) = delete;
  OwnBroker& operator=(const OwnBroker&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }
  // SIGTERM, then (after `down`) the same port and data again; returns when
  // it serves.
  void restart(std::chrono::seconds down = std::chrono::seconds(0));

 private:
  void run(const std::string& command, const std::string& environment = {});

  std::filesystem::path dir_;
  std::string bootstrap_;
};

}  // namespace sfmc::test
