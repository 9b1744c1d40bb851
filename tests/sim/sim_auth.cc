#include "sim_auth.h"

#include <httplib.h>

#include <cctype>
#include <chrono>
#include <string>

#include "sim_errors.h"
#include "sim_json.h"

namespace sfmc::sim {
namespace {

// What SFMC grants an installed package with the send and read permissions
// the relay needs; echoed unless the request names its own scope.
constexpr std::string_view kDefaultScope = "sms_send sms_read email_send email_read";

Reply oauth_failure(int status, std::string_view error, std::string_view description) {
  return Reply{status, json::oauth_error(error, description), {}};
}

std::string instance_url(const httplib::Request& request, const SimOptions& options, int port) {
  if (!options.rest_instance_url.empty()) return options.rest_instance_url;
  const std::string scheme = options.tls_cert_file.empty() ? "http://" : "https://";
  // The Host the client used is reachable by definition, which matters when
  // the simulator listens on 0.0.0.0 inside a container.
  const std::string host = request.get_header_value("Host");
  if (!host.empty()) {
    return scheme + host + "/";
  }
  const std::string listen_host = options.host == "0.0.0.0" ? "127.0.0.1" : options.host;
  return scheme + listen_host + ":" + std::to_string(port) + "/";
}

std::string_view bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size()) return {};
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return {};
  }
  authorization.remove_prefix(kScheme.size());
  if (authorization.front() != ' ') return {};
  while (!authorization.empty() && authorization.front() == ' ') authorization.remove_prefix(1);
  while (!authorization.empty() && authorization.back() == ' ') authorization.remove_suffix(1);
  return authorization;
}

}  // namespace

Reply issue_token(const httplib::Request& request, SimContext& context) {
  rapidjson::Document body;
  if (!json::parse(request.body, body) || !body.IsObject()) {
    return oauth_failure(400, "invalid_request", "The request body must be a JSON object.");
  }
  const auto* grant_type = json::member(body, "grant_type");
  if (grant_type == nullptr || !grant_type->IsString()) {
    return oauth_failure(400, "invalid_request", "grant_type is required.");
  }
  if (json::string_view_of(*grant_type) != "client_credentials") {
    return oauth_failure(400, "unsupported_grant_type", "Use \"grant_type\":\"client_credentials\".");
  }
  const auto* client_id = json::member(body, "client_id");
  const auto* client_secret = json::member(body, "client_secret");
  if (client_id == nullptr || !client_id->IsString() || client_secret == nullptr || !client_secret->IsString() ||
      json::string_view_of(*client_id) != context.options.client_id ||
      json::string_view_of(*client_secret) != context.options.client_secret) {
    return oauth_failure(401, "invalid_client", "Client authentication failed.");
  }
  const auto* scope = json::member(body, "scope");
  const std::string_view granted_scope =
      scope != nullptr && scope->IsString() ? json::string_view_of(*scope) : kDefaultScope;

  const auto now = context.clock();
  std::string token = context.ids.access_token();
  context.tokens.remember(token, now + std::chrono::seconds(context.options.token_ttl_s), now);
  context.stats.count_token_issued();

  const std::string url = instance_url(request, context.options, request.local_port);
  json::Writer out;
  out.begin_object()
      .str_field("access_token", token)
      .str_field("token_type", "Bearer")
      .int_field("expires_in", context.options.token_ttl_s)
      .str_field("scope", granted_scope)
      .str_field("soap_instance_url", url)
      .str_field("rest_instance_url", url)
      .end_object();
  return Reply{200, out.text(), {}};
}

std::optional<Reply> check_bearer(const httplib::Request& request, const SimContext& context) {
  const std::string authorization = request.get_header_value("Authorization");
  const std::string token(bearer_token(authorization));
  if (!token.empty() && context.tokens.is_valid(token, context.clock())) {
    return std::nullopt;
  }
  return not_authorized();
}

Reply not_authorized() {
  // Key order as seen in real traffic.
  json::Writer out;
  out.begin_object()
      .str_field("documentation", "")
      .int_field("errorcode", rest::kNotAuthorized)
      .str_field("message", "Not Authorized")
      .end_object();
  return Reply{401, out.text(), {}};
}

}  // namespace sfmc::sim
