#include "delivery_harness.h"

#include <doctest/doctest.h>

#include <httplib.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "core/message_keys.h"

namespace sfmc::test {

using namespace std::chrono;

Workload::Workload(int events, int keys, int partitions) : events_(events), keys_(keys), partitions_(partitions) {
  for (int i = 0; i < events_; ++i) {
    by_id_.emplace(id(i), i);
    by_message_key_.emplace(message_key(i), i);
  }
}

std::string Workload::id(int i) const {
  return std::string("k").append(std::to_string(key_of(i))).append("-s").append(std::to_string(sequence_of(i)));
}

std::string Workload::message_key(int i) const { return derived_message_key(id(i), 0); }

std::vector<OutgoingRecord> Workload::records() const {
  std::vector<OutgoingRecord> out;
  out.reserve(static_cast<size_t>(events_));
  for (int i = 0; i < events_; ++i)
    out.push_back({"key-" + std::to_string(key_of(i)),
                   R"({"operation":"transactional.sms.send","id":")" + id(i) +
                       R"(","body":{"definitionKey":"order-shipped","recipients":[{"contactKey":"c)" +
                       std::to_string(key_of(i)) + R"(","to":"15555550123"}]}})",
                   partition_of(i),
                   {}});
  return out;
}

std::optional<int> Workload::index_of_id(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? std::nullopt : std::optional<int>(it->second);
}

std::optional<int> Workload::index_of_message_key(const std::string& key) const {
  auto it = by_message_key_.find(key);
  return it == by_message_key_.end() ? std::nullopt : std::optional<int>(it->second);
}

size_t OutcomeTally::lost() const {
  size_t n = 0;
  for (int c : outcomes) n += c == 0;
  return n;
}

size_t OutcomeTally::duplicated() const {
  size_t n = 0;
  for (int c : outcomes) n += c > 1;
  return n;
}

OutcomeTally tally_outcomes(const Workload& workload, const std::vector<Record>& records,
                            const std::string& input_topic) {
  OutcomeTally tally;
  tally.outcomes.assign(static_cast<size_t>(workload.events()), 0);
  auto problem = [&](const Record& r) {
    if (tally.first_problem.empty()) tally.first_problem = r.value;
  };
  for (const auto& r : records) {
    rapidjson::Document o;
    o.Parse(r.value.c_str());
    if (o.HasParseError() || !o.IsObject() || !o.HasMember("id") || !o["id"].IsString()) {
      ++tally.foreign;
      problem(r);
      continue;
    }
    auto index = workload.index_of_id(o["id"].GetString());
    if (!index) {
      ++tally.foreign;
      problem(r);
      continue;
    }
    ++tally.outcomes[static_cast<size_t>(*index)];
    const auto& input = o["input"];
    int32_t partition = input["partition"].GetInt();
    tally.input_offsets[partition].push_back(input["offset"].GetInt64());
    tally.partition_order.push_back(partition);
    if (std::string(o["status"].GetString()) != "accepted") {
      ++tally.not_accepted;
      problem(r);
    }
    bool right = r.key == "key-" + std::to_string(workload.key_of(*index)) &&
                 std::string(input["topic"].GetString()) == input_topic &&
                 partition == workload.partition_of(*index) && o.HasMember("messageKeys") &&
                 o["messageKeys"].Size() == 1 && o["messageKeys"][0].GetString() == workload.message_key(*index);
    if (!right) {
      ++tally.wrong_fields;
      problem(r);
    }
  }
  return tally;
}

size_t SendTally::events_sent_more_than_once() const {
  size_t n = 0;
  for (int c : sends) n += c > 1;
  return n;
}

std::vector<std::string> recipient_keys(const sim::RecordedRequest& send) {
  std::vector<std::string> keys;
  rapidjson::Document body;
  body.Parse(send.body.c_str());
  if (!body.HasParseError() && body.IsObject() && body.HasMember("recipients") && body["recipients"].IsArray()) {
    for (const auto& r : body["recipients"].GetArray()) {
      auto key = r.IsObject() ? r.FindMember("messageKey") : r.MemberEnd();
      keys.emplace_back(key != r.MemberEnd() && key->value.IsString() ? key->value.GetString() : "");
    }
    return keys;
  }
  constexpr std::string_view kMessages = "/messages/";
  auto at = send.path.find(kMessages);
  const bool single = send.path.rfind("/messaging/v1/", 0) == 0 && at != std::string::npos;
  if (single && at + kMessages.size() < send.path.size()) keys.push_back(send.path.substr(at + kMessages.size()));
  return keys;
}

SendTally tally_sends(const Workload& workload, const std::vector<sim::RecordedRequest>& sends) {
  SendTally tally;
  tally.sends.assign(static_cast<size_t>(workload.events()), 0);
  tally.sequence_order.resize(static_cast<size_t>(workload.keys()));
  for (const auto& s : sends) {
    auto keys = recipient_keys(s);
    if (keys.empty() || s.path != "/messaging/v1/sms/messages/") {
      tally.foreign += std::max<size_t>(keys.size(), 1);
      continue;
    }
    for (const auto& key : keys) {
      auto index = workload.index_of_message_key(key);
      if (!index) {
        ++tally.foreign;
        continue;
      }
      ++tally.sends[static_cast<size_t>(*index)];
      tally.sequence_order[static_cast<size_t>(workload.key_of(*index))].push_back(workload.sequence_of(*index));
    }
  }
  return tally;
}

uint64_t send_requests(const sim::StatsSnapshot& stats, std::optional<int> status) {
  uint64_t n = 0;
  for (const auto& [route, statuses] : stats.requests) {
    if (route == "POST /v2/token") continue;
    for (const auto& [code, count] : statuses)
      if (!status || code == *status) n += count;
  }
  return n;
}

std::map<std::string, double> scrape_metrics(int admin_port) {
  std::map<std::string, double> samples;
  httplib::Client admin("127.0.0.1", admin_port);
  admin.set_connection_timeout(2);
  admin.set_read_timeout(5);
  auto page = admin.Get("/metrics");
  if (!page || page->status != 200) return samples;
  std::istringstream lines(page->body);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    samples[line.substr(0, space)] = std::strtod(line.c_str() + space + 1, nullptr);
  }
  return samples;
}

bool eventually(milliseconds deadline, const std::function<bool()>& done, milliseconds interval) {
  auto end = steady_clock::now() + deadline;
  for (;;) {
    if (done()) return true;
    if (steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(interval);
  }
}

OwnBroker::OwnBroker() : dir_(std::filesystem::temp_directory_path() / unique_name("own-broker")) {
  run("start");
  std::ifstream in(dir_ / "bootstrap");
  if (!(in >> bootstrap_)) throw std::runtime_error("own broker: no bootstrap address in " + dir_.string());
}

OwnBroker::~OwnBroker() {
  try {
    run("stop");
  } catch (const std::exception&) {
    // already reported by the script on stderr
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void OwnBroker::restart(std::chrono::seconds down) {
  run("restart", "BROKER_DOWN_S=" + std::to_string(down.count()) + " ");
}

void OwnBroker::run(const std::string& command, const std::string& environment) {
  std::string line = environment + "'" + SFMC_TESTS_DIR + "/kafka/broker' " + command + " '" + dir_.string() + "' >/dev/null";
  if (std::system(line.c_str()) != 0) throw std::runtime_error("tests/kafka/broker " + command + " failed");
}

std::string show(const std::vector<int64_t>& offsets) {
  std::string text;
  for (auto o : offsets) {
    if (!text.empty()) text += ',';
    text += std::to_string(o);
  }
  return "[" + text + "]";
}

std::vector<int64_t> produce_workload(const RelayUnderTest& relay, const Workload& workload) {
  produce_all(relay.bootstrap, relay.input, workload.records());
  auto ends = end_offsets(relay.bootstrap, relay.input, workload.partitions());
  REQUIRE(std::accumulate(ends.begin(), ends.end(), int64_t{0}) == workload.events());
  return ends;
}

bool all_committed(const RelayUnderTest& relay, const std::vector<int64_t>& ends, std::chrono::milliseconds deadline) {
  std::vector<int64_t> committed;
  bool done = eventually(
      deadline,
      [&] {
        committed = committed_offsets(relay.bootstrap, relay.group, relay.input, static_cast<int>(ends.size()));
        return committed == ends;
      },
      std::chrono::milliseconds(250));
  if (!done) MESSAGE("committed " << show(committed) << ", end offsets " << show(ends));
  return done;
}

void wait_for_accepted(const RelayUnderTest& relay, size_t count, std::chrono::milliseconds deadline) {
  bool accepted =
      eventually(deadline, [&] { return relay.sim.stats().message_keys >= count; }, std::chrono::milliseconds(20));
  if (!accepted) {  // what the daemons were doing: the ends of their logs
    MESSAGE("accepted " << relay.sim.stats().message_keys << " of " << count);
    for (size_t i = 0; i < relay.daemon_count(); ++i) {
      std::istringstream lines(relay.log(i));
      std::deque<std::string> last;  // the last lines above debug level
      for (std::string line; std::getline(lines, line);) {
        if (line.find(R"("level":"debug")") != std::string::npos) continue;
        last.push_back(line);
        if (last.size() > 40) last.pop_front();
      }
      std::string text;
      for (const auto& line : last) text.append(line).append("\n");
      MESSAGE("daemon " << i << " log, last lines above debug:\n" << text);
    }
  }
  REQUIRE(accepted);
}

}  // namespace sfmc::test
