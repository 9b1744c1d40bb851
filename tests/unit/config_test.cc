#include <doctest/doctest.h>

#include "ops/config.h"

using namespace sfmc;

namespace {

std::optional<std::string> env(const std::string& name) {
  if (name == "SFMC_SECRET") return std::string("s3cret");
  return std::nullopt;
}

constexpr const char* kMinimal = R"({
  "kafka": {"bootstrap_servers": "127.0.0.1:9092", "input_topics": ["in"], "outcome_topic": "out",
            "properties": {"security.protocol": "plaintext"}, "consumer_properties": {"auto.commit.interval.ms": "1000"}},
  "accounts": {"default": {"auth_base_url": "http://127.0.0.1:1", "client_id": "c", "client_secret_env": "SFMC_SECRET", "account_id": 7}}
})";

}  // namespace

TEST_CASE("a minimal configuration gets its defaults and its secret from the environment") {
  RelayConfig c = parse_config(kMinimal, env);
  CHECK(c.consumer_properties.at("bootstrap.servers") == "127.0.0.1:9092");
  CHECK(c.consumer_properties.at("group.id") == "sfmc-relay");
  CHECK(c.consumer_properties.at("security.protocol") == "plaintext");
  CHECK(c.consumer_properties.at("auto.commit.interval.ms") == "1000");
  CHECK(c.producer_properties.count("auto.commit.interval.ms") == 0);
  CHECK(c.producer_properties.at("security.protocol") == "plaintext");
  CHECK(c.input_topics == std::vector<std::string>{"in"});
  CHECK(c.pipeline.outcome_topic == "out");
  CHECK(c.pipeline.dead_letter_topic.empty());
  CHECK(c.accounts.at("default").client_secret == "s3cret");
  CHECK(c.accounts.at("default").account_id == 7);
  CHECK(c.retry.max_attempts == 5);
  CHECK(c.pipeline.max_in_flight == 500);
  CHECK(c.pipeline.ordering == Ordering::Key);
  CHECK(c.http.verify_tls);
}

TEST_CASE("every schema violation is listed with its location") {
  try {
    parse_config(R"({"kafka": {"input_topics": [], "outcome_topic": 3}, "accounts": {}, "colour": "red"})", env);
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    std::string m = e.what();
    CHECK(m.find("/kafka/outcome_topic") != std::string::npos);
    CHECK(m.find("/kafka/input_topics") != std::string::npos);
    CHECK(m.find("bootstrap_servers") != std::string::npos);
    CHECK(m.find("colour") != std::string::npos);
  }
}

TEST_CASE("a missing secret is a configuration error naming the variable, never the value") {
  std::string text = kMinimal;
  text.replace(text.find("SFMC_SECRET"), 11, "UNSET_VAR");
  CHECK_THROWS_WITH_AS(parse_config(text, env),
                       "configuration is invalid:\n  /accounts/default: environment variable UNSET_VAR "
                       "(client_secret_env) is not set",
                       ConfigError);
}

TEST_CASE("environment overrides set any member, keep existing spellings, and are validated like the file") {
  Environment overrides{{"SFMC_RELAY__KAFKA__BOOTSTRAP_SERVERS", "10.0.0.1:9092"},
                        {"SFMC_RELAY__PIPELINE__MAX_IN_FLIGHT", "800"},
                        {"SFMC_RELAY__KAFKA__PROPERTIES__SECURITY.PROTOCOL", "SSL"},
                        {"SFMC_RELAY__ACCOUNTS__DEFAULT__CLIENT_ID", "from-env"}};
  RelayConfig c = parse_config(kMinimal, env, overrides);
  CHECK(c.consumer_properties.at("bootstrap.servers") == "10.0.0.1:9092");
  CHECK(c.pipeline.max_in_flight == 800);
  CHECK(c.producer_properties.at("security.protocol") == "SSL");
  CHECK(c.accounts.at("default").client_id == "from-env");

  CHECK_THROWS_WITH_AS(parse_config(kMinimal, env, {{"SFMC_RELAY__PIPELINE__MAX_IN_FLIGHT", "many"}}),
                       "configuration is invalid:\n  /pipeline/max_in_flight: must be of type integer", ConfigError);
}

TEST_CASE("tools' own SFMC_RELAY_* variables are not configuration") {
  // relay_environment() keeps only SFMC_RELAY__*; a stray one would fail validation.
  setenv("SFMC_RELAY_CACHE", "/tmp/x", 1);
  setenv("SFMC_RELAY__LOG__LEVEL", "warning", 1);
  auto environment = relay_environment();
  unsetenv("SFMC_RELAY_CACHE");
  unsetenv("SFMC_RELAY__LOG__LEVEL");
  REQUIRE(environment.size() == 1);
  CHECK(parse_config(kMinimal, env, environment).log_level == LogLevel::Warning);
}
