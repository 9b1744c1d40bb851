// The bounded state: the messageKey window, the status records.
#include <sys/resource.h>

#include <cstdio>

#include "sim_message_keys.h"
#include "sim_status_store.h"
#include "sim_test_support.h"

namespace {

using namespace sfmc::sim;
using namespace sfmc::sim::test;
using namespace std::chrono_literals;

const TimePoint kStart{std::chrono::seconds(1'700'000'000)};

long resident_kib() {
  long pages = 0, resident = 0;
  if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(statm);
  }
  return resident * 4;
}

}  // namespace

TEST_CASE("message keys: a key is refused until exactly one window after its claim") {
  MessageKeyRegistry keys(60s, 0);
  CHECK(keys.claim("k", kStart));
  CHECK_FALSE(keys.claim("k", kStart + 59999ms));
  CHECK(keys.claim("k", kStart + 60s));
  CHECK_FALSE(keys.claim("k", kStart + 61s));  // the window restarts at the new claim
  CHECK(keys.claim("k", kStart + 120s));
}

TEST_CASE("message keys: window 0 keeps keys forever") {
  MessageKeyRegistry keys(0s, 0);
  CHECK(keys.claim("k", kStart));
  CHECK_FALSE(keys.claim("k", kStart + std::chrono::hours(24 * 365)));
}

TEST_CASE("message keys: claims prune every key the window has passed, so memory follows one window") {
  MessageKeyRegistry keys(10s, 0);
  for (int i = 0; i < 1000; ++i) CHECK(keys.claim("old-" + std::to_string(i), kStart + std::chrono::milliseconds(i)));
  CHECK(keys.size() == 1000);
  CHECK(keys.claim("new", kStart + 10s + 500ms));
  CHECK(keys.size() == 500);  // old-0 .. old-500 are at least 10 s old
  CHECK(keys.claim("newer", kStart + 20s));
  CHECK(keys.size() == 2);
  CHECK(keys.forgotten_early() == 0);
}

TEST_CASE("message keys: the cap forgets the oldest key early and counts it") {
  MessageKeyRegistry keys(std::chrono::hours(48), 3);
  for (const char* key : {"a", "b", "c", "d"}) CHECK(keys.claim(key, kStart));
  CHECK(keys.size() == 3);
  CHECK(keys.forgotten_early() == 1);
  CHECK(keys.claim("a", kStart + 1s));  // forgotten: accepted where SFMC would refuse it
  CHECK_FALSE(keys.claim("d", kStart + 1s));
}

TEST_CASE("message keys: a clock stepping back delays pruning but never loses a live key") {
  MessageKeyRegistry keys(10s, 0);
  CHECK(keys.claim("late", kStart + 5s));
  CHECK(keys.claim("early", kStart));  // the clock stepped back
  CHECK_FALSE(keys.claim("early", kStart + 9s));
  CHECK(keys.claim("early", kStart + 10s));  // expired though not at the front
  CHECK_FALSE(keys.claim("late", kStart + 14s));
  CHECK(keys.claim("late", kStart + 15s));
}

TEST_CASE("message keys over HTTP: SFMC's 2-day window by default, a shorter one from the options") {
  ManualClock clock;
  SimServer::Options options;
  options.clock = clock.clock();
  options.token_ttl_s = 86400 * 3;
  CHECK(options.message_key_window == std::chrono::hours(48));
  options.message_key_window = 60s;
  Sim sim(options);
  const std::string token = sim.token();
  const std::string body = R"({"definitionKey":"d","recipients":[{"to":"1555","messageKey":"w"}]})";
  CHECK(parse(sim.post(kSmsBatch, body, token)->body)["errorcode"].GetInt() == 0);
  clock.advance(59s);
  CHECK(parse(sim.post(kSmsBatch, body, token)->body)["responses"][0]["errorcode"].GetInt() == 109110);
  clock.advance(1s);
  CHECK(parse(sim.post(kSmsBatch, body, token)->body)["errorcode"].GetInt() == 0);
  CHECK(sim.server.stats().message_keys == 1);
}

TEST_CASE("bounded map: the oldest put goes first; a put of a present key makes it the newest") {
  BoundedMap<int> map(2);
  map.put("a", 1);
  map.put("b", 2);
  map.put("a", 10);  // refreshes "a"
  map.put("c", 3);   // drops "b", the oldest now
  CHECK(map.size() == 2);
  REQUIRE(map.find("a") != nullptr);
  CHECK(*map.find("a") == 10);
  CHECK(map.find("b") == nullptr);
  CHECK(*map.find("c") == 3);
  for (int i = 0; i < 1000; ++i) map.put("c", i);  // many puts of one key stay bounded
  CHECK(map.size() == 1);
  CHECK(*map.find("c") == 999);
  BoundedMap<int> disabled(0);
  disabled.put("x", 1);
  CHECK(disabled.size() == 0);
}

// Run by hand: sim_test -ts="*RSS*" --no-skip
TEST_CASE("measure: RSS after 1M messageKeys" * doctest::skip()) {
  const long before = resident_kib();
  {
    MessageKeyRegistry keys(std::chrono::hours(48), 0);
    for (int i = 0; i < 1'000'000; ++i) keys.claim("bench-key-" + std::to_string(i) + "-0123456789", kStart);
    const long after = resident_kib();
    std::printf("1M messageKeys (32 chars): +%ld KiB RSS, %.0f bytes/key\n", after - before,
                (after - before) * 1024.0 / 1e6);
    MessageKeyRegistry pruned(60s, 0);
    for (int i = 0; i < 1'000'000; ++i) {
      pruned.claim("bench-key-" + std::to_string(i) + "-0123456789", kStart + std::chrono::milliseconds(i));
    }
    std::printf("1M claims over 1000 s with a 60 s window: %zu keys remembered\n", pruned.size());
  }
}
