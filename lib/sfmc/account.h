// One SFMC business unit the relay can send with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace sfmc {

struct AccountConfig {
  std::string name;
  std::string auth_base_url;  // e.g. https://YOUR_SUBDOMAIN.auth.marketingcloudapis.com
  std::string client_id;
  std::string client_secret;  // resolved from env or file at start-up; never logged
  std::optional<int64_t> account_id;
  std::optional<std::string> scope;
  double max_requests_per_second = 0;  // 0: unlimited
  double burst = 1;
  // A pinned concurrency limit (calls in flight); unset: learnt from SFMC's answers.
  std::optional<size_t> concurrency = std::nullopt;
};

// "host", "host/", "https://host/" -> "https://host" (no trailing slash);
// an explicit http:// scheme is kept (the simulator speaks plain HTTP).
std::string normalize_base_url(std::string url);

}  // namespace sfmc
