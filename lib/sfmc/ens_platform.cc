#include "sfmc/ens_platform.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>

namespace sfmc {

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
  HttpResponse answer = call(HttpRequest{
      method,
      token_.rest_base_url + path,
      {"Content-Type: application/json", "Accept: application/json", "Authorization: Bearer " + token_.value},
      body});
  PlatformAnswer out{answer.status, std::move(answer.body), {}};
  if (!out.ok())
    out.problem =
        answer.status == 0 ? answer.transport_error : "HTTP " + std::to_string(answer.status) + " " + out.body;
  return out;
}

PlatformAnswer EnsPlatform::verify(const std::string& callback_id, const std::string& verification_key) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("callbackId");
  w.String(callback_id.c_str());
  w.Key("verificationKey");
  w.String(verification_key.c_str());
  w.EndObject();
  return request("POST", "/platform/v1/ens-verify", buffer.GetString());
}

}  // namespace sfmc
