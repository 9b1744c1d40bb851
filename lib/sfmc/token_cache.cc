#include "sfmc/token_cache.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

namespace sfmc {

std::string normalize_base_url(std::string url) {
  if (url.find("://") == std::string::npos) url = "https://" + url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::variant<AccessToken, TokenError> TokenCache::get(const AccountConfig& account) {
  auto it = tokens_.find(account.name);
  if (it != tokens_.end() && clock_.now() < it->second.refresh_at) return it->second;
  auto fetched = fetch(account);
  if (auto* token = std::get_if<AccessToken>(&fetched)) tokens_[account.name] = *token;
  return fetched;
}

std::variant<AccessToken, TokenError> TokenCache::fetch(const AccountConfig& account) {
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

  HttpRequest request{"POST", normalize_base_url(account.auth_base_url) + "/v2/token",
                      {"Content-Type: application/json", "Accept: application/json"},
                      std::string(body.GetString(), body.GetSize())};
  HttpResponse response = transport_.perform(request);
  if (response.status == 0)
    return TokenError{"token request to " + request.url + " failed: " + response.transport_error, true, 0};

  rapidjson::Document doc;
  doc.Parse(response.body.c_str());
  bool json_object = !doc.HasParseError() && doc.IsObject();
  if (response.status != 200) {
    std::string reason = "HTTP " + std::to_string(response.status);
    if (json_object && doc.HasMember("error") && doc["error"].IsString()) {
      reason += " " + std::string(doc["error"].GetString());
      if (doc.HasMember("error_description") && doc["error_description"].IsString())
        reason += ": " + std::string(doc["error_description"].GetString());
    }
    // 400/401/403 mean the credentials or scope are wrong: asking again
    // cannot help. 429 and 5xx are the server's trouble.
    bool retryable = response.status == 429 || response.status >= 500;
    return TokenError{"token request for account '" + account.name + "' refused: " + reason, retryable,
                      response.status};
  }
  auto text = [&](const char* name) -> std::string {
    if (!json_object || !doc.HasMember(name) || !doc[name].IsString()) return {};
    return doc[name].GetString();
  };
  AccessToken token{text("access_token"), normalize_base_url(text("rest_instance_url")), {}};
  if (token.value.empty() || text("rest_instance_url").empty())
    return TokenError{"token response for account '" + account.name + "' lacks access_token or rest_instance_url",
                      true, response.status};
  int64_t expires_in = 1080;
  if (json_object && doc.HasMember("expires_in") && doc["expires_in"].IsInt64()) expires_in = doc["expires_in"].GetInt64();
  // Refresh ahead of expiry (SFMC suggests ~5 min before); short-lived tokens
  // are refreshed after two thirds of their life.
  int64_t ahead = std::min<int64_t>(300, expires_in / 3);
  token.refresh_at = clock_.now() + std::chrono::seconds(std::max<int64_t>(0, expires_in - ahead));
  return token;
}

}  // namespace sfmc
