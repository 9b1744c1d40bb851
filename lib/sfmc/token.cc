#include "sfmc/token.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>

namespace sfmc {

std::string normalize_base_url(std::string url) {
  if (url.find("://") == std::string::npos) url = "https://" + url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

HttpRequest token_request(const AccountConfig& account) {
  rapidjson::StringBuffer body;
  rapidjson::Writer<rapidjson::StringBuffer> w(body);
  w.StartObject();
  w.Key("grant_type");
  w.String("client_credentials");
  w.Key("client_id");
  w.String(account.client_id.c_str());
  w.Key("client_secret");
  w.String(account.client_secret.c_str());
  if (account.account_id) {
    w.Key("account_id");
    w.Int64(*account.account_id);
  }
  if (account.scope) {
    w.Key("scope");
    w.String(account.scope->c_str());
  }
  w.EndObject();
  return {"POST", normalize_base_url(account.auth_base_url) + "/v2/token",
          {"Content-Type: application/json", "Accept: application/json"},
          std::string(body.GetString(), body.GetSize())};
}

std::variant<AccessToken, TokenError> read_token_response(const HttpResponse& response, const AccountConfig& account,
                                                          Clock::time_point now) {
  const std::string url = normalize_base_url(account.auth_base_url) + "/v2/token";
  if (response.status == 0)
    return TokenError{"token request to " + url + " failed: " + response.transport_error, true, 0, std::nullopt,
                      response.certificate_refused};

  rapidjson::Document doc;
  doc.Parse(response.body.c_str());
  bool json_object = !doc.HasParseError() && doc.IsObject();
  auto text = [&](const char* name) -> std::string {
    if (!json_object || !doc.HasMember(name) || !doc[name].IsString()) return {};
    return doc[name].GetString();
  };
  if (response.status != 200) {
    std::string reason = "HTTP " + std::to_string(response.status);
    if (auto error = text("error"); !error.empty()) {
      reason += " " + error;
      if (auto description = text("error_description"); !description.empty()) reason += ": " + description;
    }
    // 400/401/403 mean the credentials or scope are wrong: asking again
    // cannot help. 429 and 5xx are the server's trouble.
    bool retryable = response.status == 429 || response.status >= 500;
    std::optional<int> retry_after;
    if (!response.retry_after.empty()) retry_after = std::atoi(response.retry_after.c_str());
    return TokenError{"token request for account '" + account.name + "' refused: " + reason, retryable,
                      response.status, retry_after};
  }
  AccessToken token{text("access_token"), normalize_base_url(text("rest_instance_url")), {}, {}};
  if (token.value.empty() || text("rest_instance_url").empty())
    return TokenError{"token response for account '" + account.name + "' lacks access_token or rest_instance_url",
                      true, response.status, std::nullopt};
  int64_t expires_in = 1080;
  if (json_object && doc.HasMember("expires_in") && doc["expires_in"].IsInt64()) expires_in = doc["expires_in"].GetInt64();
  // Refresh ahead of expiry (SFMC suggests ~5 min before); short-lived tokens
  // are refreshed after two thirds of their life. The old token stays in use
  // until the new one arrives, or until it expires.
  int64_t ahead = std::min<int64_t>(300, expires_in / 3);
  token.refresh_at = now + std::chrono::seconds(std::max<int64_t>(0, expires_in - ahead));
  token.expires_at = now + std::chrono::seconds(std::max<int64_t>(0, expires_in - 5));
  return token;
}

}  // namespace sfmc
