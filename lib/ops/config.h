// The daemon's configuration file (schemas/config.schema.json), read once at
// start-up. Errors throw ConfigError listing every problem.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "contract/event_decoder.h"
#include "http/curl_transport.h"
#include "kafka/handles.h"
#include "ops/log.h"
#include "pipeline/relay.h"
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
  DecoderOptions decoder;
  RelayOptions pipeline;
  LogLevel log_level = LogLevel::Info;
  bool mask_personal_data = true;
  std::string admin_listen = "127.0.0.1:9464";  // empty: no admin endpoint
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using GetEnv = std::function<std::optional<std::string>(const std::string&)>;

RelayConfig parse_config(std::string_view json, const GetEnv& getenv);
RelayConfig load_config_file(const std::string& path, const GetEnv& getenv);

}  // namespace sfmc
