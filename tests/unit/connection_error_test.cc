#include <doctest/doctest.h>

#include "kafka/connection_error.h"

using namespace sfmc::kafka;

namespace {

const Properties kSasl{{"security.protocol", "SASL_SSL"}, {"sasl.mechanism", "SCRAM-SHA-512"},
                       {"sasl.username", "relay"}, {"sasl.password", "pa55word"}, {"ssl.ca.location", "/etc/ca.pem"}};

}  // namespace

TEST_CASE("TLS and SASL failures name the broker and the settings involved, never a secret") {
  auto sasl = explain_security_failure(
      "sasl_ssl://10.0.0.7:9096/bootstrap: SASL authentication error: Authentication failed during authentication due "
      "to invalid credentials with SASL mechanism SCRAM-SHA-512 (after 5ms in state AUTH_REQ)",
      security_settings(kSasl));
  REQUIRE(sasl);
  CHECK(*sasl ==
        "Kafka broker 10.0.0.7:9096 refused the SASL credentials of user relay (mechanism SCRAM-SHA-512; check "
        "sasl.username and sasl.password): SASL authentication error: Authentication failed during authentication "
        "due to invalid credentials with SASL mechanism SCRAM-SHA-512 (after 5ms in state AUTH_REQ)");
  CHECK(security_settings(kSasl).count("sasl.password") == 0);

  auto ca = explain_security_failure(
      "ssl://b-1.kafka.example:9094/1: SSL handshake failed: error:0A000086:SSL routines::certificate verify failed",
      security_settings(kSasl));
  REQUIRE(ca);
  CHECK(*ca ==
        "the certificate of Kafka broker b-1.kafka.example:9094 is not trusted: it is not signed by a CA in "
        "ssl.ca.location /etc/ca.pem, or it does not name the host: SSL handshake failed: "
        "error:0A000086:SSL routines::certificate verify failed");
  CHECK(explain_security_failure("ssl://b:9094/1: SSL handshake failed: x: certificate verify failed", {})
            ->find("the system's CA certificates (no ssl.ca.location is set)") != std::string::npos);

  const char* refused = "ssl://127.0.0.1:9094/bootstrap: Receive failed: error:0A000412:SSL routines::sslv3 alert "
                        "bad certificate: SSL alert number 42 (after 1ms in state APIVERSION_QUERY)";
  CHECK(explain_security_failure(refused, {{"ssl.certificate.location", "/run/client.pem"}})
            ->starts_with("Kafka broker 127.0.0.1:9094 refused the client certificate ssl.certificate.location "
                          "/run/client.pem (not signed by a CA it trusts, expired, or not for client use): Receive "
                          "failed: "));
  CHECK(explain_security_failure(refused, {})->starts_with(
      "Kafka broker 127.0.0.1:9094 requires a client certificate and none is set"));

  // Anything else is not for this function to explain.
  CHECK_FALSE(explain_security_failure("127.0.0.1:9092/1: Connect to ipv4#127.0.0.1:9092 failed: Connection refused "
                                       "(after 0ms in state CONNECT)",
                                       {}));
}

TEST_CASE("librdkafka's lines about each failed attempt go to debug; the rest keep their level") {
  CHECK(log_level(3, "FAIL",
                  "[thrd:sasl_ssl://127.0.0.1:1/bootstrap]: sasl_ssl://127.0.0.1:1/bootstrap: SASL authentication "
                  "error: Authentication failed") == 7);
  CHECK(log_level(3, "ERROR", "1/1 brokers are down") == 7);
  CHECK(log_level(3, "FAIL", "127.0.0.1:1/1: Connect to ipv4#127.0.0.1:1 failed: Connection refused") == 3);
  CHECK(log_level(4, "SSL", "No matching issuer found in server trusted certificate authorities") == 4);
}
