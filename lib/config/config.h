// The daemon's configuration file (schemas/config.schema.json), read once at
// start-up. Errors throw ConfigError listing every problem.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "contract/event_decoder.h"
#include "http/curl_transport.h"
#include "kafka/handles.h"
#include "telemetry/log.h"
#include "pipeline/ens_service.h"
#include "pipeline/relay.h"
#include "pipeline/status_followup.h"
#include "sfmc/account.h"
#include "sfmc/client.h"

namespace sfmc {

struct RelayConfig {
  kafka::Properties consumer_properties;  // bootstrap.servers and group.id included
  kafka::Properties producer_properties;
  std::vector<std::string> input_topics;
  std::map<std::string, AccountConfig> accounts;
  CurlOptions http;
  RetryPolicy retry;
  CoalesceOptions coalesce;
  ConcurrencyOptions concurrency;  // every account's, but for a pinned account's own
  DecoderOptions decoder;
  RelayOptions pipeline;
  // Delivery status follow-up (status.topic empty: off): its engine, its
  // client, and its own connections.
  StatusOptions status;
  StatusClientOptions status_client;
  CurlOptions status_http;
  // The ENS receiver (ens.listen empty: off).
  EnsOptions ens;
  LogLevel log_level = LogLevel::Info;
  bool mask_personal_data = true;
  std::string admin_listen = "127.0.0.1:9464";  // empty: no admin endpoint
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using GetEnv = std::function<std::optional<std::string>(const std::string&)>;

// Environment overrides: SFMC_RELAY__<PATH>=value sets the member at PATH, its
// segments joined by "__" and matched without regard to case, e.g.
// SFMC_RELAY__KAFKA__BOOTSTRAP_SERVERS or SFMC_RELAY__PIPELINE__MAX_IN_FLIGHT=800
// (two underscores after SFMC_RELAY, so tools' SFMC_RELAY_* variables never clash).
// A value that parses as JSON (number, boolean, array, object) is used as
// such, anything else as a string. Overrides are applied before validation.
using Environment = std::vector<std::pair<std::string, std::string>>;

RelayConfig parse_config(std::string_view json, const GetEnv& getenv, const Environment& overrides = {});
RelayConfig load_config_file(const std::string& path, const GetEnv& getenv, const Environment& overrides = {});

// The process environment's SFMC_RELAY__* variables.
Environment relay_environment();

}  // namespace sfmc
