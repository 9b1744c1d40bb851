// SFMC's ENS set-up calls (/platform/v1/ens-*, reference: sfmc-ens.md,
// "Setting it up") with an account's token, one call at a time: for the
// `sfmc-relay ens` commands and the receiver's own verification.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "http/curl_transport.h"
#include "sfmc/account.h"
#include "sfmc/token.h"

namespace sfmc {

struct PlatformAnswer {
  int status = 0;       // SFMC's HTTP status; 0: no answer
  std::string body;     // SFMC's answer
  std::string problem;  // "HTTP 404 {...}" or the transport's error; empty when 2xx
  bool ok() const { return status >= 200 && status < 300; }
};

class EnsPlatform {
 public:
  EnsPlatform(const CurlOptions& http, AccountConfig account);

  // Fetches the account's token; the problem when SFMC gives none.
  std::optional<std::string> sign_in();

  // One REST call under the token, fetched first when there is none (a
  // failure is the answer: status 0, the token's problem); a 401 drops the
  // token, so that the next call fetches a new one. Waits for the answer.
  PlatformAnswer request(const std::string& method, const std::string& path, const std::string& body = {});

  // POST /platform/v1/ens-callbacks: one callback (its answer shows the signature key once).
  PlatformAnswer create_callback(const std::string& name, const std::string& url, int max_batch_size);
  // POST /platform/v1/ens-verify with the pair ENS posted to the callback.
  PlatformAnswer verify(const std::string& callback_id, const std::string& verification_key);
  // POST /platform/v1/ens-subscriptions: the callback gets these event types.
  PlatformAnswer subscribe(const std::string& callback_id, const std::string& name,
                           const std::vector<std::string>& event_types);

 private:
  HttpResponse call(HttpRequest request);

  CurlTransport transport_;
  AccountConfig account_;
  AccessToken token_;
};

}  // namespace sfmc
