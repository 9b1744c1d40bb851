// Method + path dispatch with SFMC's path rules: "{name}" segments capture
// a percent-decoded value, a trailing slash is optional, a known path with
// another method is 405 and an unknown path 404. httplib's own routing
// cannot tell 404 from 405, hence this.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim_fault_plan.h"

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

  struct Match {
    std::size_t route = 0;         // index of the matched route, when there is one
    PathParams params;
    std::optional<Reply> refusal;  // 404 or 405 (with Allow) when no route matched
  };

  // Routes are matched in the order added. `scope` says which injected
  // faults the route is subject to.
  void add(std::string method, std::string_view pattern, Handler handler, FaultScope scope = FaultScope::kNone);

  Match match(const httplib::Request& request) const;
  Reply run(const Match& match, const httplib::Request& request) const;  // requires !match.refusal
  Reply dispatch(const httplib::Request& request) const;                 // match + run

  FaultScope scope(std::size_t route) const { return routes_[route].scope; }
  // "POST /v2/token", one per route, in the order added.
  std::vector<std::string> names() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;  // "{...}" captures
    Handler handler;
    FaultScope scope;
  };
  static bool match(const Route& route, const std::vector<std::string>& segments, PathParams& params);

  std::vector<Route> routes_;
};

// The raw path of a request target: before any '?', still percent-encoded.
std::string_view raw_path(std::string_view target);
std::string percent_decode(std::string_view text);

}  // namespace sfmc::sim
