#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"

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

// What a person reads for `text` after overrides: the ConfigError's text, or "" when valid.
std::string refusal(std::string_view text, const Environment& overrides = {}) {
  try {
    parse_config(text, env, overrides);
    return "";
  } catch (const ConfigError& e) {
    return e.what();
  }
}

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
  CHECK(c.pipeline.max_in_flight == 10000);
  CHECK(c.coalesce.enabled);
  CHECK(c.coalesce.max_recipients == 500);
  CHECK(c.coalesce.max_wait == std::chrono::milliseconds(0));
  CHECK(c.concurrency.max == 64);
  CHECK(c.concurrency.fixed == 0);  // adaptive
  CHECK_FALSE(c.accounts.at("default").concurrency);
  CHECK(c.pipeline.ordering == Ordering::Key);
  CHECK(c.http.verify_tls);
  CHECK_FALSE(c.pipeline.exactly_once);
  CHECK(c.producer_properties.count("transactional.id") == 0);
}

TEST_CASE("concurrency: learnt up to max_connections unless pinned, for all accounts or for one") {
  RelayConfig c = parse_config(kMinimal, env,
                               {{"SFMC_RELAY__HTTP__MAX_CONNECTIONS", "32"}, {"SFMC_RELAY__HTTP__CONCURRENCY", "12"},
                                {"SFMC_RELAY__ACCOUNTS__DEFAULT__CONCURRENCY", "3"}});
  CHECK(c.concurrency.max == 32);
  CHECK(c.concurrency.fixed == 12);
  CHECK(c.accounts.at("default").concurrency == 3u);
  CHECK(refusal(kMinimal, {{"SFMC_RELAY__HTTP__CONCURRENCY", "0"}}) ==
        "configuration is invalid:\n  /http/concurrency: must be at least 1");
  CHECK(refusal(kMinimal, {{"SFMC_RELAY__ACCOUNTS__DEFAULT__CONCURRENCY", "fast"}}) ==
        "configuration is invalid:\n  /accounts/default/concurrency: must be of type integer");
}

TEST_CASE("exactly-once: a transactional.id per instance, the group and host name unless configured") {
  RelayConfig c = parse_config(kMinimal, env, {{"SFMC_RELAY__PIPELINE__EXACTLY_ONCE", "true"}});
  CHECK(c.pipeline.exactly_once);
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  CHECK(c.producer_properties.at("transactional.id") == std::string("sfmc-relay-") + host);
  CHECK(c.consumer_properties.count("transactional.id") == 0);
  c = parse_config(kMinimal, env, {{"SFMC_RELAY__PIPELINE__EXACTLY_ONCE", "true"},
                                   {"SFMC_RELAY__KAFKA__TRANSACTIONAL_ID", "relay-3"}});
  CHECK(c.producer_properties.at("transactional.id") == "relay-3");
  CHECK(refusal(kMinimal, {{"SFMC_RELAY__KAFKA__TRANSACTIONAL_ID", ""}}).find("/kafka/transactional_id") !=
        std::string::npos);
}

TEST_CASE("status follow-up: off unless configured; its defaults, its own connections, and its topics apart") {
  CHECK(parse_config(kMinimal, env).status.topic.empty());
  CHECK(parse_config(kMinimal, env).pipeline.status_followup_topic.empty());
  const Environment on{{"SFMC_RELAY__STATUS", R"({"topic": "delivery", "followup_topic": "checks"})"}};
  RelayConfig c = parse_config(kMinimal, env, on);
  CHECK(c.status.topic == "delivery");
  CHECK(c.status.followup_topic == "checks");
  CHECK(c.pipeline.status_followup_topic == "checks");
  CHECK(c.status.schedule == std::vector<std::chrono::milliseconds>{std::chrono::seconds(30), std::chrono::minutes(2),
                                                                     std::chrono::minutes(10), std::chrono::hours(1)});
  CHECK(c.status.outcome_topic == c.pipeline.outcome_topic);  // the first checks
  CHECK(c.status.lookup_window == std::chrono::hours(72));
  CHECK(c.status_client.max_requests_per_second == 5);
  CHECK(c.status_client.max_in_flight == 2);
  CHECK(c.status_http.max_connections == 2);
  CHECK(c.http.max_connections == 64);  // the sends keep theirs

  c = parse_config(kMinimal, env,
                   {{"SFMC_RELAY__STATUS",
                     R"({"topic": "d", "followup_topic": "f", "schedule_ms": [1000, 5000], "max_requests_per_second": 0.5,
                         "max_connections": 4, "lookup_window_ms": 60000, "retry_ms": 2000, "max_held": 10})"}});
  CHECK(c.status.schedule == std::vector<std::chrono::milliseconds>{std::chrono::seconds(1), std::chrono::seconds(5)});
  CHECK(c.status_client.max_requests_per_second == 0.5);
  CHECK(c.status_http.max_connections == 4);
  CHECK(c.status.lookup_window == std::chrono::minutes(1));
  CHECK(c.status.retry_delay == std::chrono::seconds(2));
  CHECK(c.status.max_held == 10);

  CHECK(refusal(kMinimal, {{"SFMC_RELAY__STATUS", R"({"topic": "d", "followup_topic": "f", "schedule_ms": [5000, 1000]})"}})
            .find("/status/schedule_ms: steps must increase") != std::string::npos);
  CHECK(refusal(kMinimal, {{"SFMC_RELAY__STATUS", R"({"topic": "d", "followup_topic": "in"})"}})
            .find("/status/followup_topic: 'in' is an input topic") != std::string::npos);
  CHECK(refusal(kMinimal, {{"SFMC_RELAY__STATUS", R"({"topic": "out", "followup_topic": "f"})"}})
            .find("/status: topic, followup_topic and kafka.outcome_topic must differ") != std::string::npos);
  CHECK(refusal(kMinimal, {{"SFMC_RELAY__STATUS", R"({"topic": "d"})"}}).find("/status") != std::string::npos);
}

TEST_CASE("every schema violation is one line: where, and what is wanted") {
  CHECK(refusal(R"({"kafka": {"input_topics": [], "outcome_topic": 3}, "accounts": {}, "colour": "red"})") ==
        "configuration is invalid:\n"
        "  /accounts: must not be empty\n"
        "  /kafka/input_topics: must not be empty\n"
        "  /kafka/outcome_topic: must be of type string\n"
        "  /kafka: \"bootstrap_servers\" is required\n"
        "  /colour: unknown field \"colour\"");
}

TEST_CASE("an account without a secret gets one line naming both ways to give it") {
  std::string text = kMinimal;
  text.replace(text.find(R"(, "client_secret_env": "SFMC_SECRET")"), 36, "");
  CHECK(refusal(text) == "configuration is invalid:\n  /accounts/default: set client_secret_env or client_secret_file");
  CHECK(refusal(kMinimal, {{"SFMC_RELAY__ACCOUNTS__DEFAULT__CLIENT_SECRET_FILE", "/run/secret"}}) ==
        "configuration is invalid:\n  /accounts/default: set only one of client_secret_env and client_secret_file");
}

TEST_CASE("bounds are the schema's integers, and URLs must be http(s)") {
  CHECK(refusal(kMinimal, {{"SFMC_RELAY__PIPELINE__MAX_IN_FLIGHT", "0"},
                           {"SFMC_RELAY__RETRY__MAX_ATTEMPTS", "51"},
                           {"SFMC_RELAY__ACCOUNTS__DEFAULT__BURST", "0"},
                           {"SFMC_RELAY__ACCOUNTS__DEFAULT__AUTH_BASE_URL", "not a url"},
                           {"SFMC_RELAY__ACCOUNTS__DEFAULT__CLIENT_ID", ""},
                           {"SFMC_RELAY__LOG__LEVEL", "loud"}}) ==
        "configuration is invalid:\n"
        "  /accounts/default/auth_base_url: must be an https:// URL (http:// for a local simulator), e.g. "
        "https://YOUR_SUBDOMAIN.auth.marketingcloudapis.com\n"
        "  /accounts/default/burst: must be at least 1\n"
        "  /accounts/default/client_id: must not be empty\n"
        "  /log/level: must be one of \"debug\", \"info\", \"warning\", \"error\"\n"
        "  /pipeline/max_in_flight: must be at least 1\n"
        "  /retry/max_attempts: must be at most 50");
  CHECK(refusal(kMinimal, {{"SFMC_RELAY__ACCOUNTS__DEFAULT__AUTH_BASE_URL", "https://mc.auth.marketingcloudapis.com/"}}) ==
        "");
}

TEST_CASE("no configuration error speaks the validator's language") {
  // One violation of every kind of rule the configuration schema uses.
  for (const Environment& overrides : std::vector<Environment>{
           {{"SFMC_RELAY__KAFKA__INPUT_TOPICS", "[]"}},
           {{"SFMC_RELAY__KAFKA__INPUT_TOPICS", "[\"\"]"}},
           {{"SFMC_RELAY__KAFKA__PROPERTIES__LINGER.MS", "5"}},
           {{"SFMC_RELAY__ACCOUNTS", "{}"}},
           {{"SFMC_RELAY__ACCOUNTS__DEFAULT", "{}"}},
           {{"SFMC_RELAY__ACCOUNTS__DEFAULT__MAX_REQUESTS_PER_SECOND", "-0.5"}},
           {{"SFMC_RELAY__ACCOUNTS__DEFAULT__AUTH_BASE_URL", "ftp://x"}},
           {{"SFMC_RELAY__HTTP__TIMEOUT", "5"}},
           {{"SFMC_RELAY__LIMITS__MAX_EVENT_DEPTH", "513"}},
           {{"SFMC_RELAY__PIPELINE__ORDERING", "random"}},
           {{"SFMC_RELAY__ADMIN", "true"}},
       }) {
    std::string text = refusal(kMinimal, overrides);
    CAPTURE(text);
    CHECK(text.rfind("configuration is invalid:\n  /", 0) == 0);
    CHECK(text.find("Failed to validate") == std::string::npos);
    CHECK(text.find(".000000") == std::string::npos);
    CHECK(text.find("constraint") == std::string::npos);
  }
}

TEST_CASE("a syntax error says the line and the column") {
  CHECK(refusal("{\n  \"kafka\": {\n    \"group_id\": \"é\"\n    \"outcome_topic\": \"out\"}}") ==
        "configuration is not valid JSON at line 4, column 5: Missing a comma or '}' after an object member.");
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

TEST_CASE("a librdkafka property can be a secret: a file, a systemd credential by name, or a variable") {
  const auto dir = std::filesystem::temp_directory_path() / ("sfmc-config-secrets-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "credentials");
  std::ofstream(dir / "kafka.password") << "pa55-from-file\n";
  std::ofstream(dir / "credentials" / "kafka-key-password") << "key-pa55";
  const std::string text = std::string(R"({
  "kafka": {"bootstrap_servers": "127.0.0.1:9093", "input_topics": ["in"], "outcome_topic": "out",
            "properties": {"security.protocol": "SASL_SSL", "sasl.password": {"file": ")") +
                           (dir / "kafka.password").string() + R"("},
                           "ssl.key.password": {"file": "kafka-key-password"}},
            "producer_properties": {"sasl.oauthbearer.client.secret": {"env": "SFMC_SECRET"}}},
  "accounts": {"default": {"auth_base_url": "http://127.0.0.1:1", "client_id": "c", "client_secret_file": "sfmc"}}
})";
  std::ofstream(dir / "credentials" / "sfmc") << "sfmc-secret\n";
  auto with_credentials = [&](const std::string& name) -> std::optional<std::string> {
    if (name == "CREDENTIALS_DIRECTORY") return (dir / "credentials").string();
    return env(name);
  };
  RelayConfig c = parse_config(text, with_credentials);
  CHECK(c.consumer_properties.at("sasl.password") == "pa55-from-file");  // the line end dropped
  CHECK(c.producer_properties.at("sasl.password") == "pa55-from-file");
  CHECK(c.consumer_properties.at("ssl.key.password") == "key-pa55");
  CHECK(c.producer_properties.at("sasl.oauthbearer.client.secret") == "s3cret");
  CHECK(c.consumer_properties.count("sasl.oauthbearer.client.secret") == 0);
  CHECK(c.accounts.at("default").client_secret == "sfmc-secret");

  // Without $CREDENTIALS_DIRECTORY a bare name is a path of its own; each
  // missing secret gets one line that names the file and never a value.
  std::string refused;
  try {
    parse_config(text, env);
  } catch (const ConfigError& e) {
    refused = e.what();
  }
  CHECK(refused ==
        "configuration is invalid:\n"
        "  /kafka/properties/ssl.key.password: cannot read secret file kafka-key-password: No such file or directory\n"
        "  /accounts/default: cannot read secret file sfmc: No such file or directory");
  std::filesystem::remove(dir / "kafka.password");
  std::ofstream(dir / "credentials" / "kafka-key-password").flush();  // empty now
  try {
    parse_config(text, with_credentials);
  } catch (const ConfigError& e) {
    refused = e.what();
  }
  CHECK(refused == "configuration is invalid:\n  /kafka/properties/sasl.password: cannot read secret file " +
                       (dir / "kafka.password").string() +
                       ": No such file or directory\n"
                       "  /kafka/properties/ssl.key.password: secret file " +
                       (dir / "credentials" / "kafka-key-password").string() + " is empty");
  CHECK(refusal(R"({"kafka": {"bootstrap_servers": "b", "input_topics": ["in"], "outcome_topic": "out",
                              "properties": {"sasl.password": {"file": "a", "env": "B"}}},
                    "accounts": {"default": {"auth_base_url": "http://127.0.0.1:1", "client_id": "c",
                                             "client_secret_env": "SFMC_SECRET"}}})")
            .find("/kafka/properties/sasl.password") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the ens section: keys read as secrets, its defaults, and each mistake in one line without the key") {
  std::string text(kMinimal);
  text.pop_back();
  const auto with = [&](const std::string& ens) { return text + R"(, "ens": )" + ens + "}"; };
  const auto keyed = [](const std::string& name) -> std::optional<std::string> {
    if (name == "ENS_KEY") return std::string("ZW5zLWtleQ==");
    if (name == "ENS_BAD") return std::string("not base64 at all!");
    return env(name);
  };
  RelayConfig c = parse_config(with(R"({"listen": "0.0.0.0:9465", "topic": "deliveries",
                                        "signature_keys": [{"env": "ENS_KEY"}]})"),
                               keyed);
  CHECK(c.ens.listen == "0.0.0.0:9465");
  CHECK(c.ens.path == "/sfmc/ens");
  CHECK(c.ens.topic == "deliveries");
  CHECK(c.ens.receiver.signature_keys == std::vector<std::string>{"ZW5zLWtleQ=="});
  CHECK(c.ens.receiver.answer_within == std::chrono::milliseconds(2500));
  CHECK(c.ens.max_connections == 16);
  CHECK(c.ens.verify_account.empty());  // the pair is logged for an operator
  CHECK(parse_config(kMinimal, env).ens.listen.empty());  // off unless configured
  // No key yet (the first set-up): the receiver runs and refuses every batch.
  CHECK(parse_config(with(R"({"listen": "0.0.0.0:9465", "topic": "t"})"), keyed).ens.receiver.signature_keys.empty());

  std::string problem;
  try {
    parse_config(with(R"({"listen": "0.0.0.0:9465", "signature_keys": [{"env": "ENS_BAD"}, {"env": "ENS_NONE"}],
                         "tls_cert_file": "/c.pem", "verify_account": "nobody"})"),
                 keyed);
  } catch (const ConfigError& e) {
    problem = e.what();
  }
  CHECK(problem.find("/ens/topic: needed when status.topic is not set") != std::string::npos);
  CHECK(problem.find("/ens: tls_cert_file and tls_key_file go together") != std::string::npos);
  CHECK(problem.find("/ens/signature_keys/0: the signature key is not base64 (as SFMC shows it)") != std::string::npos);
  CHECK(problem.find("/ens/signature_keys/1: environment variable ENS_NONE is not set") != std::string::npos);
  CHECK(problem.find("/ens/verify_account: no account 'nobody' in accounts") != std::string::npos);
  CHECK(problem.find("not base64 at all") == std::string::npos);  // never the key
  CHECK(refusal(with(R"({"listen": "0.0.0.0:9465", "topic": "t", "signature_keys": ["ZW5zLWtleQ=="]})")) != "");
}
