// `sfmc-relay demo`: the relay on an embedded default: an in-process Kafka
// mock cluster fed with the schema examples, sending to an SFMC simulator,
// and, with the simulator's ENS feed, receiving delivery status by push.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "config/config.h"
#include "telemetry/log.h"

namespace sfmc {

using RunRelay = std::function<int(const RelayConfig&, const std::atomic<bool>&)>;

// The simulator's documented demo ENS signature key (base64 of
// "sim-ens-key"), not a real secret: `sfmc-sim --ens-key` with it signs
// what the demo's receiver accepts.
inline constexpr const char* kDemoEnsKey = "c2ltLWVucy1rZXk=";

// Prints every outcome; with `ens_listen` (HOST:PORT) also receives ENS
// there and prints the delivery records the outcomes promise. Sets `stop`
// once all have arrived (or on timeout).
int run_demo(const std::string& auth_url, const std::string& ens_listen, Logger& log, std::atomic<bool>& stop,
             const RunRelay& run_relay);

}  // namespace sfmc
