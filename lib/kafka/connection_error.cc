#include "kafka/connection_error.h"

namespace sfmc::kafka {

namespace {

bool has(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

std::string property(const Properties& properties, const std::string& name, const std::string& fallback) {
  auto it = properties.find(name);
  return it == properties.end() || it->second.empty() ? fallback : it->second;
}

// "sasl_ssl://127.0.0.1:9093/bootstrap: SSL handshake failed: ..." ->
// {"127.0.0.1:9093", "SSL handshake failed: ..."}.
std::pair<std::string, std::string> broker_and_error(std::string_view reason) {
  auto scheme = reason.find("://");
  auto colon = reason.find(": ", scheme == std::string_view::npos ? 0 : scheme + 3);
  if (scheme == std::string_view::npos || colon == std::string_view::npos) return {"(unknown)", std::string(reason)};
  std::string_view name = reason.substr(scheme + 3, colon - scheme - 3);  // 127.0.0.1:9093/bootstrap
  if (auto slash = name.find('/'); slash != std::string_view::npos) name = name.substr(0, slash);
  return {std::string(name), std::string(reason.substr(colon + 2))};
}

}  // namespace

std::optional<std::string> explain_security_failure(std::string_view reason, const Properties& properties) {
  const auto [broker, error] = broker_and_error(reason);
  if (has(error, "SASL authentication error") || has(error, "SASL authentication failed")) {
    std::string mechanism = property(properties, "sasl.mechanism", property(properties, "sasl.mechanisms", "GSSAPI"));
    return "Kafka broker " + broker + " refused the SASL credentials of user " +
           property(properties, "sasl.username", "(none set)") + " (mechanism " + mechanism +
           "; check sasl.username and sasl.password): " + error;
  }
  if (has(error, "certificate verify failed")) {
    auto ca = properties.find("ssl.ca.location");
    std::string trusted = ca == properties.end() ? "the system's CA certificates (no ssl.ca.location is set)"
                                                 : "ssl.ca.location " + ca->second;
    return "the certificate of Kafka broker " + broker + " is not trusted: it is not signed by a CA in " + trusted +
           ", or it does not name the host: " + error;
  }
  if (has(error, "alert bad certificate") || has(error, "alert unknown ca") || has(error, "certificate required") ||
      has(error, "alert certificate") || has(error, "alert unsupported certificate")) {
    auto certificate = properties.find("ssl.certificate.location");
    if (certificate == properties.end())
      return "Kafka broker " + broker +
             " requires a client certificate and none is set (ssl.certificate.location, ssl.key.location): " + error;
    return "Kafka broker " + broker + " refused the client certificate ssl.certificate.location " +
           certificate->second + " (not signed by a CA it trusts, expired, or not for client use): " + error;
  }
  if (has(error, "SSL handshake failed") || has(error, "ssl.key.location") || has(error, "ssl.certificate.location"))
    return "TLS with Kafka broker " + broker + " failed: " + error;
  return std::nullopt;
}

Properties security_settings(const Properties& properties) {
  Properties out;
  for (const char* name : {"sasl.mechanism", "sasl.mechanisms", "sasl.username", "ssl.ca.location",
                           "ssl.certificate.location"})
    if (auto it = properties.find(name); it != properties.end()) out.emplace(it->first, it->second);
  return out;
}

int log_level(int level, std::string_view facility, std::string_view message) {
  constexpr int kDebug = 7;
  if ((facility == "FAIL" || facility == "ERROR") && explain_security_failure(message, {})) return kDebug;
  // "1/1 brokers are down", at each failed reconnection (every 50 ms when
  // TLS fails): the relay's own outage line says it twice a minute.
  if (facility == "ERROR" && message.find(" brokers are down") != std::string_view::npos) return kDebug;
  return level;
}

}  // namespace sfmc::kafka
