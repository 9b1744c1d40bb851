// kafka_bench: the Kafka side of tests/bench/run-bench (librdkafka only).
//
//   kafka_bench topics      --bootstrap B NAME:PARTITIONS...
//   kafka_bench produce     --bootstrap B --topic T --count N [--rate R] [--run ID] [--keys K]
//                           [--kind merge|unique|mix] [--mix-every N] [--dead-letters INPUT]
//   kafka_bench bodies      --count N [--run ID] [--keys K] [--events 1] [--kind merge|unique|mix]
//   kafka_bench passthrough --bootstrap B --input T --output T --group G --count N
//                           [--max-in-flight W] [--outcome-bytes S]
//   kafka_bench collect     --bootstrap B --topic T --count N [--pid P] [--start-ms T] [--timeout-s S]
//                           [--stall-s S] [--kinds 1]
//
// produce: N realistic 1-2 KB transactional.sms.send events (one recipient
//   with attributes), keyed by customer (K distinct keys, so ordering "key"
//   has work to do), with a traceparent header and "bench-event-ms" (the
//   record timestamp). --rate paces them (linger 5 ms, for latency runs);
//   without it they go out as fast as the broker takes them (a backlog).
//   --kind: merge (the default) as above: every event shares definitionKey
//   and the request-level fields, so the relay can merge any of them into
//   one call. unique: the same size and shape, but a one-time code message
//   (content.message) of the event's own, so no two can merge; id
//   RUN-uINDEX, keys "otp-customer-N" (apart from merge's). mix: every
//   --mix-every'th event (2: the odd indexes) unique, the others merge;
//   unique ones go to the odd partitions, the others to the even ones.
// bodies: the request bodies the relay would POST for the same events (one
//   per line, without the derived messageKey), for wrk.
// passthrough: the bare Kafka limit. What the daemon does minus SFMC:
//   consume, produce one outcome-sized record per event (same key and
//   headers, same producer settings), store the offset once acknowledged
//   (contiguously), auto-commit. Exits after N acknowledgements.
// collect: waits until topic T holds N records (watermarks; or until none came
//   for --stall-s seconds, or --timeout-s), then snapshots
//   /proc/P (CPU seconds, VmHWM, VmRSS) at once, reads the records and prints
//   one JSON line: throughput from the record timestamps and the latency
//   (record timestamp - the event's bench-event-ms header) percentiles, and
//   per input partition its first and last outcome and median latency.
//   Statuses: "accepted" and "other_statuses" (count by status). --kinds 1:
//   the same per kind of event, told from the outcome's id ("unique" when
//   its last "-" part starts with u, as --kind unique names them; else
//   "merge"). SIGUSR1 ends the wait at once (as a timeout would): the
//   outcomes present so far are read and reported.
#include <librdkafka/rdkafka.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "kafka_bench: %s\n", message.c_str());
  std::exit(1);
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- Command line -----------------------------------------------------------

struct Args {
  std::map<std::string, std::string> options;
  std::vector<std::string> positional;

  std::string get(const std::string& name, const std::string& fallback = {}) const {
    auto it = options.find(name);
    if (it != options.end()) return it->second;
    if (fallback.empty()) die("missing --" + name);
    return fallback;
  }
  int64_t number(const std::string& name, int64_t fallback) const {
    auto it = options.find(name);
    return it == options.end() ? fallback : std::stoll(it->second);
  }
  double real(const std::string& name, double fallback) const {
    auto it = options.find(name);
    return it == options.end() ? fallback : std::stod(it->second);
  }
};

Args parse(int argc, char** argv) {
  Args args;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0) {
      if (i + 1 >= argc) die("option " + a + " needs a value");
      args.options[a.substr(2)] = argv[++i];
    } else {
      args.positional.push_back(a);
    }
  }
  return args;
}

// ---- librdkafka handles -----------------------------------------------------

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Kafka = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

Kafka make_client(rd_kafka_type_t type, const std::map<std::string, std::string>& properties,
                  void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*) = nullptr,
                  void* opaque = nullptr) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [name, value] : properties)
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK)
      die("property " + name + ": " + error);
  if (on_delivery) rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  if (opaque) rd_kafka_conf_set_opaque(conf, opaque);
  rd_kafka_t* rk = rd_kafka_new(type, conf, error, sizeof error);
  if (!rk) die(std::string("rd_kafka_new: ") + error);
  return Kafka(rk);
}

int partition_count(rd_kafka_t* rk, const std::string& topic) {
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  auto err = rd_kafka_metadata(rk, 0, t, &md, 10000);
  rd_kafka_topic_destroy(t);
  if (err) die("metadata for " + topic + ": " + rd_kafka_err2str(err));
  int n = md->topic_cnt == 1 && !md->topics[0].err ? md->topics[0].partition_cnt : 0;
  rd_kafka_metadata_destroy(md);
  if (n <= 0) die("topic " + topic + " has no partitions");
  return n;
}

// ---- The events ---------------------------------------------------------------

constexpr const char* kFirstNames[] = {"Astro", "Codey", "Einstein", "Appy", "Ruth", "Maya", "Lars", "Ines", "Kenji",
                                       "Amara", "Tomasz", "Priya", "Olu", "Sofia", "Mateo", "Hana"};
constexpr const char* kLastNames[] = {"Nguyen", "Okafor", "Schmidt", "Garcia", "Kowalski", "Haddad", "Sato", "Silva",
                                      "Johansson", "Murphy", "Rossi", "Dubois"};
constexpr const char* kCarriers[] = {"UPS", "FedEx", "DHL", "USPS", "GLS", "DPD"};
constexpr const char* kCities[] = {"Indianapolis", "San Francisco", "Chicago", "Austin", "Denver", "Seattle",
                                   "Atlanta", "Boston"};
constexpr const char* kWords[] = {"please", "leave", "the", "parcel", "at", "back", "door", "ring", "bell", "twice",
                                  "call", "on", "arrival", "side", "gate", "code", "reception", "desk", "neighbour",
                                  "garage", "weekday", "mornings", "only", "fragile"};

template <size_t N>
const char* pick(std::mt19937_64& rng, const char* const (&list)[N]) {
  return list[rng() % N];
}

std::string digits(std::mt19937_64& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += static_cast<char>('0' + rng() % 10);
  return s;
}

// What a generated event can merge with (--kind).
enum class Kind { Merge, Unique, Mix };

Kind parse_kind(const std::string& text) {
  if (text == "merge") return Kind::Merge;
  if (text == "unique") return Kind::Unique;
  if (text == "mix") return Kind::Mix;
  die("--kind is merge, unique or mix, not " + text);
}

struct Event {
  std::string key;
  std::string body;   // the SFMC request body
  std::string value;  // the whole event
  std::string traceparent;
};

// Deterministic per (run, index): a transactional.sms.send with one recipient,
// 1-2 KB in all. Kind::Unique (and Kind::Mix at odd indexes): a one-time
// code message of its own, its own keys and id (RUN-uINDEX); Kind::Merge
// (and Mix at even indexes) as always.
// Kind::Mix: every `mix_every`-th event (index % mix_every == mix_every - 1)
// is unique, the others merge.
bool is_unique(Kind kind, int64_t index, int64_t mix_every = 2) {
  return kind == Kind::Unique || (kind == Kind::Mix && index % mix_every == mix_every - 1);
}

Event make_event(const std::string& run, int64_t index, int64_t keys, Kind kind = Kind::Merge, int64_t mix_every = 2) {
  const bool unique = is_unique(kind, index, mix_every);
  std::mt19937_64 rng(std::hash<std::string>{}(run) ^ (static_cast<uint64_t>(index) * 0x9E3779B97F4A7C15ULL));
  size_t target = 1024 + rng() % 1000;  // whole event size, bytes
  uint64_t customer = rng() % static_cast<uint64_t>(keys);
  Event e;
  e.key = (unique ? "otp-customer-" : "customer-") + std::to_string(customer);
  const char* first = pick(rng, kFirstNames);
  std::string order = std::to_string(100000 + rng() % 900000);
  std::string attributes;
  attributes += R"("FirstName":")" + std::string(first) + R"(","LastName":")" + pick(rng, kLastNames);
  attributes += R"(","OrderNumber":")" + order + R"(","OrderTotal":")" + std::to_string(5 + rng() % 500) + "." +
                digits(rng, 2) + R"(","Currency":"USD","Carrier":")" + pick(rng, kCarriers);
  attributes += R"(","TrackingCode":"1Z)" + digits(rng, 16) + R"(","TrackingUrl":"https://track.example.test/p/)" +
                digits(rng, 12) + R"(","Eta":"2024-0)" + std::to_string(1 + rng() % 9) + "-1" +
                std::to_string(rng() % 10) + R"(","StoreCity":")" + pick(rng, kCities);
  attributes += R"(","LoyaltyTier":")" + std::string(rng() % 2 ? "Gold" : "Silver") + R"(","LoyaltyPoints":")" +
                std::to_string(rng() % 100000) + R"(","PreferredLanguage":"en-US")";
  std::string id = run + (unique ? "-u" : "-") + std::to_string(index);
  std::string head =
      std::string(unique ? R"({"definitionKey":"login-code-sms")" : R"({"definitionKey":"order-shipped-sms")") +
      R"(,"recipients":[{"contactKey":"C-)" + std::to_string(customer) + R"(","to":"1555)" + digits(rng, 7) +
      R"(","attributes":{)" + attributes;
  // A one-time code with the event's own reference: no two unique events
  // share content.message, so none can merge.
  std::string tail =
      unique
          ? R"(}}],"subscriptions":{"resubscribe":true},"content":{"message":"Hi %%FirstName%%, your code is )" +
                digits(rng, 6) + " (ref " + id +
                R"(). It expires in 10 minutes; never share it."},)"
                R"("attributes":{"Campaign":"login-codes","Locale":"en-US","Source":"auth-service"}})"
          : R"(}}],"subscriptions":{"resubscribe":true},"content":{"message":"Hi %%FirstName%%, order %%OrderNumber%% )"
            R"(is on its way with %%Carrier%% (%%TrackingCode%%), arriving %%Eta%%. Track it: %%TrackingUrl%%"},)"
            R"("attributes":{"Campaign":"spring-shipping","Locale":"en-US","Source":"order-service"}})";
  std::string envelope_head = R"({"operation":"transactional.sms.send","id":")" + id + R"(","account":"default","body":)";
  // Pad with delivery instructions up to the target size.
  std::string notes;
  size_t fixed = envelope_head.size() + head.size() + tail.size() + 1 + std::strlen(R"(,"DeliveryNotes":"")");
  while (fixed + notes.size() < target) {
    if (!notes.empty()) notes += ' ';
    notes += pick(rng, kWords);
  }
  e.body = head + R"(,"DeliveryNotes":")" + notes + "\"" + tail;
  e.value = envelope_head + e.body + "}";
  char trace[80];
  std::snprintf(trace, sizeof trace, "00-%016" PRIx64 "%016" PRIx64 "-%016" PRIx64 "-01", rng(), rng(), rng());
  e.traceparent = trace;
  return e;
}

// ---- topics ---------------------------------------------------------------------

int cmd_topics(const Args& args) {
  Kafka rk = make_client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", args.get("bootstrap")}});
  std::vector<rd_kafka_NewTopic_t*> topics;
  char error[512];
  for (const auto& spec : args.positional) {
    auto colon = spec.find(':');
    if (colon == std::string::npos) die("topic spec " + spec + " is not NAME:PARTITIONS");
    auto* t = rd_kafka_NewTopic_new(spec.substr(0, colon).c_str(), std::stoi(spec.substr(colon + 1)), 1, error,
                                    sizeof error);
    if (!t) die(error);
    topics.push_back(t);
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk.get());
  rd_kafka_CreateTopics(rk.get(), topics.data(), topics.size(), nullptr, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 60000);
  if (!event) die("CreateTopics timed out");
  int failures = 0;
  if (rd_kafka_event_error(event)) die(std::string("CreateTopics: ") + rd_kafka_event_error_string(event));
  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &n);
  for (size_t i = 0; i < n; ++i) {
    auto err = rd_kafka_topic_result_error(results[i]);
    if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      std::fprintf(stderr, "kafka_bench: topic %s: %s\n", rd_kafka_topic_result_name(results[i]),
                   rd_kafka_topic_result_error_string(results[i]));
      ++failures;
    }
  }
  rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  for (auto* t : topics) rd_kafka_NewTopic_destroy(t);
  return failures ? 1 : 0;
}

// ---- produce --------------------------------------------------------------------

struct ProduceStats {
  std::atomic<int64_t> failed{0};
};

void on_produced(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  if (m->err) static_cast<ProduceStats*>(opaque)->failed++;
}

int cmd_produce(const Args& args) {
  const int64_t count = args.number("count", 0);
  const double rate = args.real("rate", 0);
  const std::string run = args.get("run", "bench");
  const int64_t keys = args.number("keys", 20000);
  const Kind kind = parse_kind(args.get("kind", "merge"));
  const int64_t mix_every = std::max<int64_t>(2, args.number("mix-every", 2));
  // --dead-letters INPUT: each event as the relay dead-letters one read from
  // INPUT (failed after 429 50200), for `sfmc-relay redrive`.
  const std::string letters_of = args.get("dead-letters", "-");
  ProduceStats stats;
  Kafka rk = make_client(RD_KAFKA_PRODUCER,
                         {{"bootstrap.servers", args.get("bootstrap")},
                          // Paced runs time each event from its produce() call: no wait for
                          // a producer id (InitProducerId) at the start.
                          {"enable.idempotence", rate > 0 ? "false" : "true"},
                          {"acks", "all"},
                          {"compression.type", "lz4"},
                          // Paced (latency) runs: librdkafka's default linger. With 0,
                          // librdkafka 2.0 left events waiting up to 2 s here (its
                          // broker thread woke late), and the relay received them
                          // in bursts.
                          {"linger.ms", rate > 0 ? "5" : "20"},
                          {"batch.size", "1000000"},
                          {"queue.buffering.max.kbytes", "1048576"}},
                         &on_produced, &stats);
  const std::string topic = args.get("topic");
  // Connected and the topic known before the clock starts. A mix goes to
  // partitions of each kind's own: unique events to the odd ones, the
  // others to the even ones (as two producers with topics of their own).
  const int partitions = partition_count(rk.get(), topic);
  auto start = Clock::now();
  for (int64_t i = 0; i < count; ++i) {
    if (rate > 0) {
      auto due = start + std::chrono::nanoseconds(static_cast<int64_t>(1e9 * static_cast<double>(i) / rate));
      while (Clock::now() < due) {
        rd_kafka_poll(rk.get(), 0);
        std::this_thread::sleep_until(std::min(due, Clock::now() + std::chrono::microseconds(500)));
      }
    }
    Event e = make_event(run, i, keys, kind, mix_every);
    int32_t partition = RD_KAFKA_PARTITION_UA;
    if (kind == Kind::Mix && partitions >= 2) {
      const int32_t half = partitions / 2;
      partition = 2 * static_cast<int32_t>((i / mix_every) % half) + (is_unique(kind, i, mix_every) ? 1 : 0);
    }
    int64_t ts = wall_ms();
    std::string ts_text = std::to_string(ts);
    for (;;) {
      rd_kafka_headers_t* headers = rd_kafka_headers_new(8);
      rd_kafka_header_add(headers, "traceparent", -1, e.traceparent.data(), static_cast<ssize_t>(e.traceparent.size()));
      rd_kafka_header_add(headers, "bench-event-ms", -1, ts_text.data(), static_cast<ssize_t>(ts_text.size()));
      if (letters_of != "-") {
        const std::string input = std::string(letters_of).append("/0/").append(std::to_string(i));
        for (const auto& [name, value] : {std::pair<const char*, std::string>{"sfmc-relay-status", "failed"},
                                          {"sfmc-relay-error", "Your requests are temporarily blocked."},
                                          {"sfmc-relay-error-code", "50200"},
                                          {"sfmc-relay-http-status", "429"},
                                          {"sfmc-relay-event-id", input},
                                          {"sfmc-relay-input", input}})
          rd_kafka_header_add(headers, name, -1, value.data(), static_cast<ssize_t>(value.size()));
      }
      auto err = rd_kafka_producev(
          rk.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_KEY(e.key.data(), e.key.size()),
          RD_KAFKA_V_VALUE(e.value.data(), e.value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
      if (err) rd_kafka_headers_destroy(headers);  // taken only on success
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk.get(), 10);
        continue;
      }
      if (err) die(std::string("produce: ") + rd_kafka_err2str(err));
      break;
    }
    if (i % 1000 == 0) rd_kafka_poll(rk.get(), 0);
  }
  rd_kafka_flush(rk.get(), 120000);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (rd_kafka_outq_len(rk.get()) > 0 || stats.failed > 0) die("not every event was acknowledged");
  std::printf("{\"produced\":%" PRId64 ",\"seconds\":%.3f,\"events_per_s\":%.0f}\n", count, seconds,
              static_cast<double>(count) / seconds);
  return 0;
}

int cmd_bodies(const Args& args) {
  const int64_t count = args.number("count", 1000);
  const std::string run = args.get("run", "bench");
  const int64_t keys = args.number("keys", 20000);
  const bool whole = args.number("events", 0) != 0;  // the whole events instead (for sfmc-relay validate)
  const Kind kind = parse_kind(args.get("kind", "merge"));
  size_t total = 0;
  for (int64_t i = 0; i < count; ++i) {
    Event e = make_event(run, i, keys, kind);
    total += e.value.size();
    std::printf("%s\n", whole ? e.value.c_str() : e.body.c_str());
  }
  std::fprintf(stderr, "kafka_bench: %" PRId64 " bodies; events average %.0f bytes\n", count,
               static_cast<double>(total) / static_cast<double>(count));
  return 0;
}

// ---- passthrough ---------------------------------------------------------------

struct Passthrough {
  // Per input partition: offsets produced and not yet acknowledged.
  std::map<int32_t, std::set<int64_t>> pending;
  std::map<int32_t, int64_t> highest;
  std::map<int32_t, int64_t> stored;
  int64_t acknowledged = 0;
  int64_t failed = 0;
  int64_t in_flight = 0;
};

struct Origin {
  int32_t partition;
  int64_t offset;
};

void on_passed(rd_kafka_t* rk, const rd_kafka_message_t* m, void*) {
  auto* self = static_cast<Passthrough*>(rd_kafka_opaque(rk));
  std::unique_ptr<Origin> origin(static_cast<Origin*>(m->_private));
  --self->in_flight;
  if (m->err) {
    ++self->failed;
    return;
  }
  ++self->acknowledged;
  self->pending[origin->partition].erase(origin->offset);
}

int cmd_passthrough(const Args& args) {
  const std::string bootstrap = args.get("bootstrap"), input = args.get("input"), output = args.get("output");
  const int64_t count = args.number("count", 0);
  const int64_t window = args.number("max-in-flight", 1000);
  const size_t outcome_bytes = static_cast<size_t>(args.number("outcome-bytes", 330));
  Passthrough state;
  Kafka consumer = make_client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap},
                                                   {"group.id", args.get("group")},
                                                   {"enable.auto.offset.store", "false"},
                                                   {"enable.auto.commit", "true"},
                                                   {"auto.offset.reset", "earliest"},
                                                   {"enable.partition.eof", "false"}});
  // The daemon's producer settings (idempotent, lz4), at librdkafka's default
  // linger of 5 ms: faster here than the daemon's 20 ms, so the limit is not
  // flattered.
  Kafka producer = make_client(RD_KAFKA_PRODUCER,
                               {{"bootstrap.servers", bootstrap},
                                {"enable.idempotence", "true"},
                                {"linger.ms", args.get("linger-ms", "5")},
                                {"compression.type", "lz4"}},
                               &on_passed, &state);
  rd_kafka_poll_set_consumer(consumer.get());
  rd_kafka_topic_partition_list_t* subscription = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(subscription, input.c_str(), RD_KAFKA_PARTITION_UA);
  if (auto err = rd_kafka_subscribe(consumer.get(), subscription)) die(std::string("subscribe: ") + rd_kafka_err2str(err));
  rd_kafka_topic_partition_list_destroy(subscription);

  // Kafka wakes one poll(2), as in the daemon.
  int wake[2];
  if (pipe(wake) != 0) die("pipe");
  rd_kafka_queue_t* cq = rd_kafka_queue_get_consumer(consumer.get());
  rd_kafka_queue_t* pq = rd_kafka_queue_get_main(producer.get());
  rd_kafka_queue_io_event_enable(cq, wake[1], "c", 1);
  rd_kafka_queue_io_event_enable(pq, wake[1], "p", 1);

  std::string filler(outcome_bytes, 'x');
  int64_t consumed = 0;
  while (state.acknowledged < count) {
    if (state.failed) die("an outcome was not acknowledged");
    bool progressed = false;
    while (state.in_flight < window && consumed < count) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.get(), 0);
      if (!m) break;
      progressed = true;
      if (m->err) {
        rd_kafka_message_destroy(m);
        continue;
      }
      ++consumed;
      // An outcome-sized value naming its input, like the relay's outcome.
      char head[160];
      int n = std::snprintf(head, sizeof head,
                            "{\"version\":1,\"status\":\"accepted\",\"input\":{\"topic\":\"%s\",\"partition\":%d,"
                            "\"offset\":%" PRId64 "},\"pad\":\"",
                            rd_kafka_topic_name(m->rkt), m->partition, m->offset);
      std::string value(head, static_cast<size_t>(n));
      if (value.size() + 2 < outcome_bytes) value.append(filler, 0, outcome_bytes - value.size() - 2);
      value += "\"}";
      rd_kafka_headers_t* headers = nullptr;
      rd_kafka_headers_t* copy = nullptr;
      copy = rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR ? rd_kafka_headers_copy(headers)
                                                                                : rd_kafka_headers_new(0);
      auto* origin = new Origin{m->partition, m->offset};
      state.pending[m->partition].insert(m->offset);
      state.highest[m->partition] = std::max(state.highest[m->partition], m->offset);
      auto err = rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(output.c_str()),
                                   RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_VALUE(value.data(), value.size()),
                                   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(origin),
                                   RD_KAFKA_V_HEADERS(copy), RD_KAFKA_V_END);
      if (err) die(std::string("produce: ") + rd_kafka_err2str(err));
      ++state.in_flight;
      rd_kafka_message_destroy(m);
    }
    rd_kafka_poll(producer.get(), 0);
    // Store each partition's offset over the contiguous acknowledged run.
    rd_kafka_topic_partition_list_t* store = nullptr;
    for (auto& [partition, offsets] : state.pending) {
      int64_t position = offsets.empty() ? state.highest[partition] + 1 : *offsets.begin();
      if (position > state.stored[partition]) {
        state.stored[partition] = position;
        if (!store) store = rd_kafka_topic_partition_list_new(8);
        rd_kafka_topic_partition_list_add(store, input.c_str(), partition)->offset = position;
      }
    }
    if (store) {
      rd_kafka_offsets_store(consumer.get(), store);
      rd_kafka_topic_partition_list_destroy(store);
    }
    if (!progressed) {
      char drain[64];
      pollfd pfd{wake[0], POLLIN, 0};
      if (::poll(&pfd, 1, 10) > 0) (void)!read(wake[0], drain, sizeof drain);
    }
  }
  rd_kafka_commit(consumer.get(), nullptr, 0);
  rd_kafka_queue_destroy(cq);
  rd_kafka_queue_destroy(pq);
  rd_kafka_consumer_close(consumer.get());
  std::printf("{\"passed\":%" PRId64 "}\n", state.acknowledged);
  return 0;
}

// ---- collect ---------------------------------------------------------------------

struct ProcessSnapshot {
  double cpu_s = -1;
  int64_t vmhwm_kb = -1;
  int64_t vmrss_kb = -1;
};

ProcessSnapshot snapshot(int64_t pid) {
  ProcessSnapshot s;
  if (pid <= 0) return s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (std::getline(stat, line)) {
    // Fields after the command name (which may hold spaces): state is field 3.
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::vector<std::string> fields;
    for (std::string f; rest >> f;) fields.push_back(f);
    if (fields.size() > 12) {
      double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
      s.cpu_s = (std::stod(fields[11]) + std::stod(fields[12])) / ticks;  // utime, stime (fields 14, 15)
    }
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) s.vmhwm_kb = std::stoll(line.substr(6));
    if (line.rfind("VmRSS:", 0) == 0) s.vmrss_kb = std::stoll(line.substr(6));
  }
  return s;
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return -1;
  size_t i = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size()))) - (p > 0 ? 1 : 0);
  return sorted[std::min(i, sorted.size() - 1)];
}

// The input partition an outcome names ("input":{...,"partition":N,...}), or -1.
int input_partition(const rd_kafka_message_t* m) {
  std::string_view payload(static_cast<const char*>(m->payload), m->len);
  auto input = payload.find("\"input\":{");
  auto at = input == std::string_view::npos ? input : payload.find("\"partition\":", input);
  return at == std::string_view::npos ? -1 : std::atoi(std::string(payload.substr(at + 12, 12)).c_str());
}

// The kind of event an outcome is for, from its id (see make_event):
// "unique" when the id's last "-" part starts with u, else "merge"; "none"
// without an id.
std::string outcome_kind(std::string_view payload) {
  auto at = payload.find("\"id\":\"");
  if (at == std::string_view::npos) return "none";
  std::string_view id = payload.substr(at + 6);
  id = id.substr(0, id.find('"'));
  auto dash = id.rfind('-');
  return dash != std::string_view::npos && dash + 1 < id.size() && id[dash + 1] == 'u' ? "unique" : "merge";
}

// Outcome timestamps and statuses of one kind of event (collect --kinds).
struct KindTally {
  std::vector<double> stamps;
  std::map<std::string, int64_t> statuses;
};

// Steady state: the middle 90 % of the (sorted) stamps over the time they
// took, and that span's ends.
struct Steady {
  double per_s = 0, from_ms = 0, to_ms = 0;
};

Steady steady_rate(const std::vector<double>& sorted) {
  Steady s;
  if (sorted.size() < 20) return s;
  size_t a = sorted.size() / 20, b = sorted.size() - 1 - sorted.size() / 20;
  double span = sorted[b] - sorted[a];
  s.per_s = span > 0 ? static_cast<double>(b - a) / span * 1000.0 : 0;
  s.from_ms = sorted[a];
  s.to_ms = sorted[b];
  return s;
}

std::string json_counts(const std::map<std::string, int64_t>& counts) {
  std::string out;
  for (const auto& [name, n] : counts) {
    if (!out.empty()) out += ',';
    out.append("\"").append(name).append("\":").append(std::to_string(n));
  }
  return out;
}

volatile std::sig_atomic_t collect_stop = 0;

void on_collect_stop(int) { collect_stop = 1; }

int cmd_collect(const Args& args) {
  const std::string topic = args.get("topic");
  const int64_t count = args.number("count", 0);
  const int64_t pid = args.number("pid", 0);
  const int64_t start_ms = args.number("start-ms", 0);
  const double timeout_s = args.real("timeout-s", 600);
  const double stall_s = args.real("stall-s", 0);
  const bool by_kind = args.number("kinds", 0) != 0;
  std::signal(SIGUSR1, on_collect_stop);  // the caller's measurement is over: stop waiting
  Kafka rk = make_client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", args.get("bootstrap")},
                                             {"group.id", "bench-collector"},
                                             {"enable.auto.commit", "false"},
                                             {"enable.partition.eof", "true"}});
  const int partitions = partition_count(rk.get(), topic);

  // 1. Wait for the last outcome, cheaply (no fetching while the work runs).
  auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  const auto stall = std::chrono::milliseconds(static_cast<int64_t>(stall_s * 1000));
  int64_t present = 0, before = -1;
  auto last_progress = Clock::now();
  bool stalled = false;
  for (;;) {
    present = 0;
    for (int p = 0; p < partitions; ++p) {
      int64_t low = 0, high = 0;
      if (rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &low, &high, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
        present += high;
    }
    if (present != before) {
      before = present;
      last_progress = Clock::now();
    }
    if (present >= count || Clock::now() > deadline || collect_stop) break;
    // Outcomes stopped coming (not at the start: startup has its own pace).
    if (present > 0 && stall_s > 0 && Clock::now() - last_progress > stall) {
      stalled = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  const int64_t done_ms = wall_ms();
  const ProcessSnapshot process = snapshot(pid);
  const bool timed_out = present < count;

  // 2. Read them all.
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk.get(), assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  std::vector<double> stamps, latencies;
  // Per input partition: outcome stamps and end-to-end latencies, counted
  // from the event's production or the daemon's start, whichever is later
  // (a backlog waits for the daemon; what it waits after is the relay's).
  std::map<int, std::vector<double>> partition_stamps, partition_latencies;
  stamps.reserve(static_cast<size_t>(present));
  latencies.reserve(static_cast<size_t>(present));
  int64_t accepted = 0, read = 0;
  std::map<std::string, int64_t> other;
  std::map<std::string, KindTally> kinds;
  int eof = 0;
  auto read_deadline = Clock::now() + std::chrono::seconds(120);
  while (eof < partitions && Clock::now() < read_deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 1000);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      ++eof;
    } else if (!m->err) {
      ++read;
      int64_t ts = rd_kafka_message_timestamp(m, nullptr);
      stamps.push_back(static_cast<double>(ts));
      rd_kafka_headers_t* headers = nullptr;
      const void* value = nullptr;
      size_t size = 0;
      if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
          rd_kafka_header_get_last(headers, "bench-event-ms", &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        double event_ms = std::stod(std::string(static_cast<const char*>(value), size));
        latencies.push_back(static_cast<double>(ts) - event_ms);
        if (int partition = input_partition(m); partition >= 0) {
          partition_stamps[partition].push_back(static_cast<double>(ts));
          partition_latencies[partition].push_back(static_cast<double>(ts) -
                                                   std::max(event_ms, static_cast<double>(start_ms)));
        }
      }
      std::string_view payload(static_cast<const char*>(m->payload), m->len);
      auto at = payload.find("\"status\":\"");
      std::string_view status = at == std::string_view::npos ? "none" : payload.substr(at + 10);
      status = status.substr(0, status.find('"'));
      if (status == "accepted") ++accepted;
      else ++other[std::string(status)];
      if (by_kind) {
        KindTally& tally = kinds[outcome_kind(payload)];
        tally.stamps.push_back(static_cast<double>(ts));
        ++tally.statuses[std::string(status)];
      }
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk.get());

  std::sort(stamps.begin(), stamps.end());
  std::sort(latencies.begin(), latencies.end());
  double first = stamps.empty() ? 0 : stamps.front(), last = stamps.empty() ? 0 : stamps.back();
  // Steady state: the middle 90 % of the outcomes over the time they took.
  const Steady steady_all = steady_rate(stamps);
  const double steady = steady_all.per_s;
  // Per kind of event (--kinds): the same figures for each kind's outcomes.
  std::string by_kinds;
  for (auto& [kind, tally] : kinds) {
    std::sort(tally.stamps.begin(), tally.stamps.end());
    const Steady k = steady_rate(tally.stamps);
    char entry[400];
    std::snprintf(entry, sizeof entry,
                  "%s\"%s\":{\"read\":%zu,\"first_ms\":%.0f,\"last_ms\":%.0f,\"steady_events_per_s\":%.1f,"
                  "\"steady_from_ms\":%.0f,\"steady_to_ms\":%.0f,\"statuses\":{",
                  by_kinds.empty() ? "" : ",", kind.c_str(), tally.stamps.size(), tally.stamps.front(),
                  tally.stamps.back(), k.per_s, k.from_ms, k.to_ms);
    by_kinds.append(entry).append(json_counts(tally.statuses)).append("}}");
  }
  // Fairness across input partitions: when each got its first and last
  // outcome (ms after the daemon's start) and its median latency.
  std::string fairness;
  for (auto& [partition, times] : partition_stamps) {
    auto& lat = partition_latencies[partition];
    std::sort(lat.begin(), lat.end());
    char entry[200];
    std::snprintf(entry, sizeof entry, "%s{\"partition\":%d,\"n\":%zu,\"first_ms\":%.0f,\"last_ms\":%.0f,\"p50_ms\":%.1f}",
                  fairness.empty() ? "" : ",", partition, times.size(),
                  *std::min_element(times.begin(), times.end()) - static_cast<double>(start_ms),
                  *std::max_element(times.begin(), times.end()) - static_cast<double>(start_ms), percentile(lat, 50));
    fairness += entry;
  }
  std::vector<double> all_since_start;
  for (auto& [partition, lat] : partition_latencies) all_since_start.insert(all_since_start.end(), lat.begin(), lat.end());
  std::sort(all_since_start.begin(), all_since_start.end());
  const std::string others = json_counts(other);
  std::printf(
      "{\"count\":%" PRId64 ",\"read\":%" PRId64 ",\"timed_out\":%s,\"stalled\":%s,\"accepted\":%" PRId64
      ",\"other_statuses\":{%s},\"first_ms\":%.0f,\"last_ms\":%.0f,\"done_ms\":%" PRId64
      ",\"steady_events_per_s\":%.1f,\"steady_from_ms\":%.0f,\"steady_to_ms\":%.0f,\"wall_events_per_s\":%.1f,"
      "\"latency_ms\":{\"n\":%zu,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f},"
      "\"cpu_s\":%.2f,\"vmhwm_kb\":%" PRId64 ",\"vmrss_kb\":%" PRId64
      ",\"partitions\":{\"p50_ms\":%.1f,\"each\":[%s]}%s%s%s%s}\n",
      count, read, timed_out ? "true" : "false", stalled ? "true" : "false", accepted, others.c_str(), first, last,
      done_ms, steady, steady_all.from_ms, steady_all.to_ms,
      start_ms > 0 && last > static_cast<double>(start_ms)
          ? static_cast<double>(read) / (last - static_cast<double>(start_ms)) * 1000.0
          : 0.0,
      latencies.size(), percentile(latencies, 50), percentile(latencies, 90), percentile(latencies, 99),
      latencies.empty() ? -1.0 : latencies.back(), process.cpu_s, process.vmhwm_kb, process.vmrss_kb,
      percentile(all_since_start, 50), fairness.c_str(), collect_stop ? ",\"stopped\":true" : "",
      by_kind ? ",\"kinds\":{" : "", by_kinds.c_str(), by_kind ? "}" : "");
  return timed_out ? 3 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: kafka_bench topics|produce|bodies|passthrough|collect [options] (see the source)\n");
    return 2;
  }
  std::string command = argv[1];
  Args args = parse(argc, argv);
  if (command == "topics") return cmd_topics(args);
  if (command == "produce") return cmd_produce(args);
  if (command == "bodies") return cmd_bodies(args);
  if (command == "passthrough") return cmd_passthrough(args);
  if (command == "collect") return cmd_collect(args);
  std::fprintf(stderr, "kafka_bench: unknown command %s\n", command.c_str());
  return 2;
}
