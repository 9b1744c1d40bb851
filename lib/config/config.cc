#include "config/config.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "contract/embedded_schemas.h"
#include "contract/schema_validator.h"

namespace sfmc {

namespace {

using rapidjson::Value;

const Value* member(const Value& object, const char* name) {
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::string text(const Value& object, const char* name, std::string fallback = {}) {
  const Value* v = member(object, name);
  return v && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : fallback;
}

template <typename Int>
Int integer(const Value* object, const char* name, Int fallback) {
  if (!object) return fallback;
  const Value* v = member(*object, name);
  return v && v->IsInt64() ? static_cast<Int>(v->GetInt64()) : fallback;
}

// A secret file's content, without a trailing line end. A bare name (no
// '/') is a systemd credential: the file of that name in
// $CREDENTIALS_DIRECTORY when set. The problem names the file, never what
// it holds.
std::string read_secret_file(const std::string& name, const GetEnv& getenv, std::vector<std::string>& problems,
                             const std::string& where) {
  std::string path = name;
  if (name.find('/') == std::string::npos)
    if (auto credentials = getenv("CREDENTIALS_DIRECTORY"); credentials && !credentials->empty())
      path = *credentials + "/" + name;
  std::ifstream in(path);
  if (!in) {
    const int error = errno;
    problems.push_back(where + ": cannot read secret file " + path + ": " + std::strerror(error));
    return {};
  }
  std::stringstream content;
  content << in.rdbuf();
  std::string secret = content.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty()) problems.push_back(where + ": secret file " + path + " is empty");
  return secret;
}

// A secret given as {"file": NAME} or {"env": VARIABLE}; nullopt, with the
// problem listed (at `at`), when it cannot be read.
std::optional<std::string> read_secret(const Value& spec, const GetEnv& getenv, std::vector<std::string>& problems,
                                       const std::string& at) {
  if (const Value* file = member(spec, "file")) return read_secret_file(file->GetString(), getenv, problems, at);
  if (const Value* env = member(spec, "env")) {
    auto secret = getenv(env->GetString());
    if (secret && !secret->empty()) return secret;
    problems.push_back(at + ": environment variable " + std::string(env->GetString()) + " is not set");
  }
  return std::nullopt;
}

// librdkafka properties: a string, or a secret ({"file": NAME} or
// {"env": VARIABLE}) read here, so that a password need not sit in the file.
void copy_properties(const Value* object, kafka::Properties& into, const GetEnv& getenv,
                     std::vector<std::string>& problems, const std::string& where) {
  if (!object) return;
  for (const auto& m : object->GetObject()) {
    const std::string name = m.name.GetString();
    if (m.value.IsString()) {
      into[name] = m.value.GetString();
      continue;
    }
    if (auto secret = read_secret(m.value, getenv, problems, where + "/" + pointer_token(name)))
      into[name] = std::move(*secret);
  }
}

// One line per problem, each starting with where it is.
ConfigError invalid(const std::vector<std::string>& problems) {
  std::string message = "configuration is invalid:";
  for (const auto& problem : problems) message += "\n  " + problem;
  return ConfigError(message);
}

// People count lines from 1 and columns in characters, not bytes.
std::string line_and_column(std::string_view text, size_t offset) {
  size_t line = 1, column = 1;
  for (char c : text.substr(0, offset)) {
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {  // not a UTF-8 continuation byte
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

constexpr std::string_view kEnvPrefix = "SFMC_RELAY__";

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void apply_override(rapidjson::Document& doc, const std::string& name, const std::string& value) {
  std::string path = name.substr(kEnvPrefix.size());
  rapidjson::Value* at = &doc;
  auto& allocator = doc.GetAllocator();
  for (size_t start = 0;;) {
    size_t end = path.find("__", start);
    std::string segment = lower(path.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (!at->IsObject()) at->SetObject();
    // An existing member whose name matches without case keeps its spelling
    // (account names, librdkafka properties).
    rapidjson::Value* child = nullptr;
    for (auto& m : at->GetObject())
      if (lower(m.name.GetString()) == segment) child = &m.value;
    if (!child) {
      at->AddMember(rapidjson::Value(segment.c_str(), allocator), rapidjson::Value(rapidjson::kNullType), allocator);
      child = &(at->MemberEnd() - 1)->value;
    }
    at = child;
    if (end == std::string::npos) break;
    start = end + 2;
  }
  rapidjson::Document parsed(&allocator);
  parsed.Parse(value.c_str());
  if (!parsed.HasParseError())
    at->CopyFrom(parsed, allocator);
  else
    at->SetString(value.c_str(), allocator);
}

}  // namespace

Environment relay_environment() {
  Environment out;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos || entry.substr(0, kEnvPrefix.size()) != kEnvPrefix) continue;
    out.emplace_back(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return out;
}

RelayConfig parse_config(std::string_view json, const GetEnv& getenv, const Environment& overrides) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError())
    throw ConfigError("configuration is not valid JSON at " + line_and_column(json, doc.GetErrorOffset()) + ": " +
                      rapidjson::GetParseError_En(doc.GetParseError()));
  for (const auto& [name, value] : overrides) apply_override(doc, name, value);
  std::vector<ErrorDetail> errors;
  std::vector<std::string> problems;
  SchemaValidator schema(schemas::kConfig);
  if (!schema.validate(doc, "", errors)) {
    for (const auto& e : errors) problems.push_back((e.pointer.empty() ? "/" : e.pointer) + ": " + e.message);
    throw invalid(problems);
  }

  RelayConfig config;
  const Value& kafka = doc["kafka"];
  copy_properties(member(kafka, "properties"), config.consumer_properties, getenv, problems, "/kafka/properties");
  config.producer_properties = config.consumer_properties;
  copy_properties(member(kafka, "consumer_properties"), config.consumer_properties, getenv, problems,
                  "/kafka/consumer_properties");
  copy_properties(member(kafka, "producer_properties"), config.producer_properties, getenv, problems,
                  "/kafka/producer_properties");
  config.consumer_properties["bootstrap.servers"] = config.producer_properties["bootstrap.servers"] =
      text(kafka, "bootstrap_servers");
  config.consumer_properties["group.id"] = text(kafka, "group_id", "sfmc-relay");
  for (const auto& topic : kafka["input_topics"].GetArray()) config.input_topics.emplace_back(topic.GetString());
  config.pipeline.outcome_topic = text(kafka, "outcome_topic");
  config.pipeline.dead_letter_topic = text(kafka, "dead_letter_topic");

  for (const auto& m : doc["accounts"].GetObject()) {
    AccountConfig account;
    account.name = m.name.GetString();
    const Value& a = m.value;
    std::string where = "/accounts/" + pointer_token(account.name);
    account.auth_base_url = text(a, "auth_base_url");
    account.client_id = text(a, "client_id");
    if (auto env_name = text(a, "client_secret_env"); !env_name.empty()) {
      auto secret = getenv(env_name);
      if (!secret || secret->empty())
        problems.push_back(where + ": environment variable " + env_name + " (client_secret_env) is not set");
      else
        account.client_secret = *secret;
    } else {
      account.client_secret = read_secret_file(text(a, "client_secret_file"), getenv, problems, where);
    }
    if (const Value* id = member(a, "account_id")) account.account_id = id->GetInt64();
    if (const Value* scope = member(a, "scope")) account.scope = scope->GetString();
    if (const Value* rate = member(a, "max_requests_per_second")) account.max_requests_per_second = rate->GetDouble();
    account.burst = integer<int>(&a, "burst", 1);
    if (const Value* pinned = member(a, "concurrency"); pinned && pinned->IsUint64())
      account.concurrency = pinned->GetUint64();
    config.accounts.emplace(account.name, std::move(account));
  }

  const Value* http = member(doc, "http");
  config.http.connect_timeout_ms = integer<long>(http, "connect_timeout_ms", config.http.connect_timeout_ms);
  config.http.timeout_ms = integer<long>(http, "timeout_ms", config.http.timeout_ms);
  if (http) {
    config.http.ca_path = text(*http, "ca_file");
    if (const Value* insecure = member(*http, "insecure_skip_tls_verify")) config.http.verify_tls = !insecure->GetBool();
  }
  const Value* retry = member(doc, "retry");
  config.retry.max_attempts = integer<int>(retry, "max_attempts", config.retry.max_attempts);
  config.retry.base_backoff =
      std::chrono::milliseconds(integer<int64_t>(retry, "base_backoff_ms", config.retry.base_backoff.count()));
  config.retry.max_backoff =
      std::chrono::milliseconds(integer<int64_t>(retry, "max_backoff_ms", config.retry.max_backoff.count()));
  config.retry.max_total =
      std::chrono::milliseconds(integer<int64_t>(retry, "max_total_ms", config.retry.max_total.count()));
  config.retry.blocked_cooldown =
      std::chrono::milliseconds(integer<int64_t>(retry, "blocked_cooldown_ms", config.retry.blocked_cooldown.count()));
  config.http.max_connections = integer<long>(http, "max_connections", config.http.max_connections);
  const Value* pipeline = member(doc, "pipeline");
  config.pipeline.max_in_flight = integer<size_t>(pipeline, "max_in_flight", config.pipeline.max_in_flight);
  config.pipeline.drain_timeout =
      std::chrono::milliseconds(integer<int64_t>(pipeline, "drain_timeout_ms", config.pipeline.drain_timeout.count()));
  if (pipeline) {
    if (const Value* derive = member(*pipeline, "derive_message_keys")) config.decoder.derive_message_keys = derive->GetBool();
    if (const Value* coalesce = member(*pipeline, "coalesce")) {
      if (const Value* enabled = member(*coalesce, "enabled")) config.coalesce.enabled = enabled->GetBool();
      config.coalesce.max_recipients = integer<size_t>(coalesce, "max_recipients", config.coalesce.max_recipients);
      config.coalesce.max_wait =
          std::chrono::milliseconds(integer<int64_t>(coalesce, "max_wait_ms", config.coalesce.max_wait.count()));
    }
    if (const Value* exactly_once = member(*pipeline, "exactly_once")) config.pipeline.exactly_once = exactly_once->GetBool();
    std::string ordering = text(*pipeline, "ordering", "key");
    config.pipeline.ordering = ordering == "partition" ? Ordering::Partition
                               : ordering == "none"    ? Ordering::None
                                                       : Ordering::Key;
  }
  if (config.pipeline.exactly_once) {
    // One transactional.id per instance, stable across its restarts: a
    // restarted instance aborts what it left open. Default: group and host
    // name (a StatefulSet's pod name, a systemd host's name).
    std::string id = text(kafka, "transactional_id");
    if (id.empty()) {
      char host[256] = "";
      gethostname(host, sizeof host - 1);
      id = config.consumer_properties["group.id"] + "-" + host;
    }
    config.producer_properties["transactional.id"] = id;
  }
  if (const Value* status = member(doc, "status")) {
    config.status.topic = text(*status, "topic");
    config.status.followup_topic = text(*status, "followup_topic");
    if (const Value* schedule = member(*status, "schedule_ms")) {
      config.status.schedule.clear();
      for (const auto& step : schedule->GetArray()) {
        std::chrono::milliseconds at(step.GetInt64());
        if (!config.status.schedule.empty() && at <= config.status.schedule.back())
          problems.push_back("/status/schedule_ms: steps must increase");
        config.status.schedule.push_back(at);
      }
    }
    config.status.lookup_window = std::chrono::milliseconds(
        integer<int64_t>(status, "lookup_window_ms", config.status.lookup_window.count()));
    config.status.retry_delay =
        std::chrono::milliseconds(integer<int64_t>(status, "retry_ms", config.status.retry_delay.count()));
    config.status.max_held = integer<size_t>(status, "max_held", config.status.max_held);
    if (const Value* rate = member(*status, "max_requests_per_second"))
      config.status_client.max_requests_per_second = rate->GetDouble();
    config.status_client.max_in_flight = integer<size_t>(status, "max_connections", config.status_client.max_in_flight);
    config.status_http = config.http;
    config.status_http.max_connections = static_cast<long>(config.status_client.max_in_flight);
    for (const auto& topic : config.input_topics)
      if (topic == config.status.followup_topic)
        problems.push_back("/status/followup_topic: '" + topic + "' is an input topic; it needs a topic of its own");
    if (config.status.followup_topic == config.pipeline.outcome_topic ||
        config.status.topic == config.pipeline.outcome_topic || config.status.topic == config.status.followup_topic)
      problems.push_back("/status: topic, followup_topic and kafka.outcome_topic must differ");
    config.pipeline.status_followup_topic = config.status.followup_topic;
    config.status.outcome_topic = config.pipeline.outcome_topic;
  }
  // Sends wait for room in the client, where they can merge.
  config.concurrency.max = static_cast<size_t>(config.http.max_connections);
  config.pipeline.max_waiting_calls = static_cast<double>(config.http.max_connections);
  if (http)
    if (const Value* pinned = member(*http, "concurrency"); pinned && pinned->IsUint64())
      config.concurrency.fixed = pinned->GetUint64();
  config.decoder.prepare_merging = config.coalesce.enabled;
  const Value* limits = member(doc, "limits");
  config.decoder.max_event_bytes = integer<size_t>(limits, "max_event_bytes", config.decoder.max_event_bytes);
  config.decoder.max_depth = integer<int>(limits, "max_event_depth", config.decoder.max_depth);
  if (const Value* log = member(doc, "log")) {
    config.log_level = parse_log_level(text(*log, "level", "info")).value();
    if (const Value* mask = member(*log, "mask_personal_data")) config.mask_personal_data = mask->GetBool();
  }
  if (const Value* admin = member(doc, "admin")) config.admin_listen = text(*admin, "listen", config.admin_listen);
  if (const Value* ens = member(doc, "ens")) {
    EnsOptions& o = config.ens;
    o.listen = text(*ens, "listen");
    o.path = text(*ens, "path", o.path);
    o.topic = text(*ens, "topic", config.status.topic);
    if (o.topic.empty()) problems.push_back("/ens/topic: needed when status.topic is not set");
    o.tls_cert_file = text(*ens, "tls_cert_file");
    o.tls_key_file = text(*ens, "tls_key_file");
    if (o.tls_cert_file.empty() != o.tls_key_file.empty())
      problems.push_back("/ens: tls_cert_file and tls_key_file go together");
    o.max_connections = integer<size_t>(ens, "max_connections", o.max_connections);
    o.max_body_bytes = integer<size_t>(ens, "max_body_bytes", o.max_body_bytes);
    o.read_timeout = std::chrono::milliseconds(integer<int64_t>(ens, "read_timeout_ms", o.read_timeout.count()));
    o.receiver.answer_within =
        std::chrono::milliseconds(integer<int64_t>(ens, "answer_within_ms", o.receiver.answer_within.count()));
    o.receiver.remembered_events = integer<size_t>(ens, "remembered_events", o.receiver.remembered_events);
    o.verify_account = text(*ens, "verify_account");
    if (!o.verify_account.empty() && !config.accounts.contains(o.verify_account))
      problems.push_back("/ens/verify_account: no account '" + o.verify_account + "' in accounts");
    const Value* keys = member(*ens, "signature_keys");
    for (rapidjson::SizeType i = 0; keys != nullptr && i < keys->Size(); ++i) {
      const std::string at = "/ens/signature_keys/" + std::to_string(i);
      auto key = read_secret((*keys)[i], getenv, problems, at);
      if (!key) continue;
      try {
        EnsSignature check({*key});
        o.receiver.signature_keys.push_back(std::move(*key));
      } catch (const std::invalid_argument&) {
        problems.push_back(at + ": the signature key is not base64 (as SFMC shows it)");
      }
    }
  }

  if (!problems.empty()) throw invalid(problems);
  return config;
}

RelayConfig load_config_file(const std::string& path, const GetEnv& getenv, const Environment& overrides) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read configuration file " + path);
  std::stringstream content;
  content << in.rdbuf();
  try {
    return parse_config(content.str(), getenv, overrides);
  } catch (const ConfigError& e) {
    throw ConfigError(path + ": " + e.what());
  }
}

}  // namespace sfmc
