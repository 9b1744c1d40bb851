// librdkafka's connection errors about TLS and SASL, said the way an
// operator acts on them: which broker, which setting (the mechanism and the
// user, the CA file, the client certificate), never a secret.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kafka/handles.h"

namespace sfmc::kafka {

// `reason`: librdkafka's error text ("sasl_ssl://127.0.0.1:9093/bootstrap:
// SASL authentication error: ..."); `properties`: the client's. A sentence
// naming the broker and the settings involved, with librdkafka's own words
// after it; nullopt when the error is not a TLS or SASL failure.
std::optional<std::string> explain_security_failure(std::string_view reason, const Properties& properties);

// The settings explain_security_failure names (none of them a secret).
Properties security_settings(const Properties& properties);

// librdkafka's log level for a line, lowered to debug for its FAIL and
// ERROR lines about a TLS or SASL failure and its "N/M brokers are down":
// the relay's outage line says those twice a minute (with the settings
// involved), instead of at each reconnection.
int log_level(int level, std::string_view facility, std::string_view message);

}  // namespace sfmc::kafka
