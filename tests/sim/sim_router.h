// Method + path dispatch with SFMC's path rules: "{name}" segments capture
// a percent-decoded value, a trailing slash is optional, a known path with
// another method is 405 and an unknown path 404. httplib's own routing
// cannot tell 404 from 405, hence this.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace httplib {
struct Request;
}

namespace sfmc::sim {

// What a handler answers. Always JSON.
struct Reply {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using PathParams = std::vector<std::string>;

class Router {
 public:
  using Handler = std::function<Reply(const httplib::Request&, const PathParams&)>;

  void add(std::string method, std::string_view pattern, Handler handler);
  Reply dispatch(const httplib::Request& request) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{...}" captures
    Handler handler;
  };
  static bool match(const Route& route, const std::vector<std::string>& segments, PathParams& params);

  std::vector<Route> routes_;
};

// The raw path of a request target: before any '?', still percent-encoded.
std::string_view raw_path(std::string_view target);
std::string percent_decode(std::string_view text);

}  // namespace sfmc::sim
