// `sfmc-relay demo`: the relay on an embedded default: an in-process Kafka
// mock cluster fed with the schema examples, sending to an SFMC simulator.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "config/config.h"
#include "telemetry/log.h"

namespace sfmc {

using RunRelay = std::function<int(const RelayConfig&, const std::atomic<bool>&)>;

// Prints every outcome; sets `stop` once all have arrived (or on timeout).
int run_demo(const std::string& auth_url, Logger& log, std::atomic<bool>& stop, const RunRelay& run_relay);

}  // namespace sfmc
