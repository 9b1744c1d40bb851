#include <doctest/doctest.h>
#include <httplib.h>
#include <prometheus/registry.h>
#include <rapidjson/document.h>

#include <cstdio>
#include <cstdlib>

#include "fakes.h"
#include "kafka/consumer.h"
#include "telemetry/admin_server.h"
#include "telemetry/kafka_stats.h"
#include "telemetry/log.h"
#include "telemetry/metrics.h"
#include "telemetry/outage_log.h"

using namespace sfmc;
using namespace std::chrono_literals;

TEST_CASE("phone numbers and e-mail addresses are masked, other numbers are not") {
  CHECK(mask_personal_data("1-317-555-1212 is not a numeric string") == "*-***-***-**12 is not a numeric string");
  CHECK(mask_personal_data("to 15555551234 and 13175551212") == "to *********34 and *********12");
  CHECK(mask_personal_data("mail astro@example.test failed") == "mail a***@example.test failed");
  CHECK(mask_personal_data("offset 12345 of partition 3, 127.0.0.1:9092") == "offset 12345 of partition 3, 127.0.0.1:9092");
  CHECK(mask_personal_data("order-4711") == "order-4711");
}

TEST_CASE("log fields that are numbers are written as JSON numbers, text as (masked) strings") {
  char* written = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&written, &size);
  REQUIRE(out != nullptr);
  Logger log(LogLevel::Info, out);
  log.info("started", {{"max_in_flight", size_t{500}}, {"offset", int64_t{-1}}, {"group", "500"},
                       {"error", std::string("to 15555551234")}});
  std::fclose(out);
  std::string line(written, size);
  std::free(written);

  REQUIRE(line.size() > 1);
  CHECK(line.back() == '\n');
  rapidjson::Document doc;
  doc.Parse(line.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(doc["msg"] == "started");
  REQUIRE(doc["max_in_flight"].IsUint64());
  CHECK(doc["max_in_flight"].GetUint64() == 500);
  REQUIRE(doc["offset"].IsInt64());
  CHECK(doc["offset"].GetInt64() == -1);
  CHECK(doc["group"] == "500");
  CHECK(doc["error"] == "to *********34");
  CHECK(line.find(R"("max_in_flight":500,"offset":-1,"group":"500")") != std::string::npos);
}

TEST_CASE("consumer lag is read from librdkafka's statistics for assigned partitions only") {
  prometheus::Registry registry;
  Metrics metrics(registry, "test");
  record_consumer_lag(
      R"({"topics":{"sends":{"partitions":{"0":{"consumer_lag":42},"1":{"consumer_lag":-1},"-1":{"consumer_lag":7}}}}})",
      metrics);
  double lag = -1;
  size_t series = 0;
  for (const auto& family : registry.Collect()) {
    if (family.name != "sfmc_relay_consumer_lag") continue;
    series = family.metric.size();
    for (const auto& m : family.metric) lag = m.gauge.value;
  }
  CHECK(series == 1);
  CHECK(lag == 42);
}

TEST_CASE("librdkafka's statistics show a broker up only when a broker of the cluster is UP") {
  CHECK(kafka::statistics_show_a_broker_up(
      R"({"brokers":{"127.0.0.1:9092/bootstrap":{"source":"configured","state":"DOWN"},)"
      R"("localhost:9092/1":{"source":"learned","state":"UP"}}})"));
  CHECK(kafka::statistics_show_a_broker_up(R"({"brokers":{"b":{"source":"configured","state":"UP"}}})"));
  // librdkafka's internal broker and the coordinator's logical one say
  // nothing about the cluster.
  CHECK_FALSE(kafka::statistics_show_a_broker_up(
      R"({"brokers":{":0/internal":{"source":"internal","state":"UP"},)"
      R"("GroupCoordinator":{"source":"logical","state":"UP"},)"
      R"("localhost:9092/1":{"source":"learned","state":"CONNECT"}}})"));
  CHECK_FALSE(kafka::statistics_show_a_broker_up(R"({"brokers":{}})"));
  CHECK_FALSE(kafka::statistics_show_a_broker_up("not json"));
}

TEST_CASE("an outage is logged when it starts, again every 30 s while it lasts, and when it ends") {
  test::LogCapture log;
  OutageLog outage(log.logger, "Kafka brokers");
  const Clock::time_point t0{1h};
  outage.up(t0);  // no outage yet: nothing to end
  outage.down(t0, "2/2 brokers are down");
  outage.down(t0 + 1s, "2/2 brokers are down");
  outage.down(t0 + 29s, "2/2 brokers are down");
  outage.down(t0 + 30s, "Connection refused", 2500ms);
  outage.down(t0 + 59s, "Connection refused");
  outage.up(t0 + 61500ms);
  outage.up(t0 + 62s);
  outage.down(t0 + 70s, "1/1 brokers are down");
  CHECK(log.lines() ==
        std::vector<std::string>{
            R"({"level":"warning","msg":"Kafka brokers unreachable","error":"2/2 brokers are down"})",
            R"({"level":"warning","msg":"Kafka brokers still unreachable after 30.0 s; next try in 2.5 s",)"
            R"("error":"Connection refused"})",
            R"({"level":"info","msg":"Kafka brokers reachable again after 61.5 s"})",
            R"({"level":"warning","msg":"Kafka brokers unreachable","error":"1/1 brokers are down"})"});
}

TEST_CASE("the admin endpoint serves metrics, and health and readiness as the engine reports them") {
  prometheus::Registry registry;
  Metrics metrics(registry, "9.9.9");
  metrics.event_consumed();
  Health health;
  AdminServer admin(registry, health);
  admin.start("127.0.0.1:0");
  REQUIRE(admin.port() > 0);
  httplib::Client http("127.0.0.1", admin.port());

  auto page = http.Get("/metrics");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->body.find("sfmc_relay_events_consumed_total 1") != std::string::npos);
  CHECK(page->body.find("sfmc_relay_build_info{version=\"9.9.9\"} 1") != std::string::npos);

  CHECK(http.Get("/healthz")->status == 503);  // the loop has not turned yet
  health.last_turn_ms = Health::now_ms();
  CHECK(http.Get("/healthz")->status == 200);
  auto not_ready = http.Get("/readyz");
  CHECK(not_ready->status == 503);
  CHECK(not_ready->body == "not ready: no partitions assigned yet; no SFMC token yet; Kafka brokers unreachable\n");
  health.assigned = health.tokens = true;
  CHECK(http.Get("/readyz")->body == "not ready: Kafka brokers unreachable\n");
  health.brokers_up = true;
  auto ready = http.Get("/readyz");
  CHECK(ready->status == 200);
  CHECK(ready->body == "ready\n");
}
