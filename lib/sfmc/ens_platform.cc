#include "sfmc/ens_platform.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>

namespace sfmc {

namespace {

// A JSON body written by RapidJSON: `fill` writes one value.
template <typename Fill>
std::string json(Fill fill) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  fill(writer);
  return buffer.GetString();
}

}  // namespace

EnsPlatform::EnsPlatform(const CurlOptions& http, AccountConfig account)
    : transport_(http), account_(std::move(account)) {}

HttpResponse EnsPlatform::call(HttpRequest request) {
  std::optional<HttpResponse> answer;
  transport_.start(std::move(request), [&](HttpResponse r) { answer = std::move(r); });
  while (!answer) transport_.poll(std::chrono::milliseconds(100));
  return *answer;
}

std::optional<std::string> EnsPlatform::sign_in() {
  auto read = read_token_response(call(token_request(account_)), account_, Clock::time_point{});
  if (auto* error = std::get_if<TokenError>(&read)) return error->message;
  token_ = std::get<AccessToken>(read);
  return std::nullopt;
}

PlatformAnswer EnsPlatform::request(const std::string& method, const std::string& path, const std::string& body) {
  if (token_.value.empty())
    if (auto problem = sign_in()) return PlatformAnswer{0, {}, std::move(*problem)};
  HttpResponse answer = call(HttpRequest{
      method,
      token_.rest_base_url + path,
      {"Content-Type: application/json", "Accept: application/json", "Authorization: Bearer " + token_.value},
      body});
  if (answer.status == 401) token_ = {};
  PlatformAnswer out{answer.status, std::move(answer.body), {}};
  if (!out.ok())
    out.problem =
        answer.status == 0 ? answer.transport_error : "HTTP " + std::to_string(answer.status) + " " + out.body;
  return out;
}

PlatformAnswer EnsPlatform::create_callback(const std::string& name, const std::string& url, int max_batch_size) {
  return request("POST", "/platform/v1/ens-callbacks", json([&](auto& w) {
                   w.StartArray();
                   w.StartObject();
                   w.Key("callbackName");
                   w.String(name.c_str());
                   w.Key("url");
                   w.String(url.c_str());
                   w.Key("maxBatchSize");
                   w.Int(max_batch_size);
                   w.EndObject();
                   w.EndArray();
                 }));
}

PlatformAnswer EnsPlatform::verify(const std::string& callback_id, const std::string& verification_key) {
  return request("POST", "/platform/v1/ens-verify", json([&](auto& w) {
                   w.StartObject();
                   w.Key("callbackId");
                   w.String(callback_id.c_str());
                   w.Key("verificationKey");
                   w.String(verification_key.c_str());
                   w.EndObject();
                 }));
}

PlatformAnswer EnsPlatform::subscribe(const std::string& callback_id, const std::string& name,
                                      const std::vector<std::string>& event_types) {
  return request("POST", "/platform/v1/ens-subscriptions", json([&](auto& w) {
                   w.StartArray();
                   w.StartObject();
                   w.Key("subscriptionName");
                   w.String(name.c_str());
                   w.Key("callbackId");
                   w.String(callback_id.c_str());
                   w.Key("eventCategoryTypes");
                   w.StartArray();
                   for (const auto& type : event_types) w.String(type.c_str());
                   w.EndArray();
                   w.EndObject();
                   w.EndArray();
                 }));
}

}  // namespace sfmc
