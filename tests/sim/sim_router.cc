#include "sim_router.h"

#include <httplib.h>

#include "sim_json.h"

namespace sfmc::sim {
namespace {

// "/a/b/" and "/a/b" both give {"a","b"}; empty inner segments are kept so
// that "/a//b" does not match "/a/b".
std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.empty()) return segments;
  std::size_t start = 0;
  while (true) {
    const auto slash = path.find('/', start);
    segments.emplace_back(path.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

bool is_capture(const std::string& segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Reply json_error(int status, std::string_view message) {
  return Reply{status, json::rest_error(0, message), {}};
}

}  // namespace

std::string_view raw_path(std::string_view target) { return target.substr(0, target.find('?')); }

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    out += text[i];  // malformed escapes pass through untouched
  }
  return out;
}

void Router::add(std::string method, std::string_view pattern, Handler handler, FaultScope scope) {
  routes_.push_back(Route{std::move(method), std::string(pattern), split_path(pattern), std::move(handler), scope});
}

std::vector<std::string> Router::names() const {
  std::vector<std::string> names;
  for (const auto& route : routes_) names.push_back(route.method + " " + route.pattern);
  return names;
}

bool Router::match(const Route& route, const std::vector<std::string>& segments, PathParams& params) {
  if (route.segments.size() != segments.size()) return false;
  params.clear();
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (is_capture(route.segments[i])) {
      if (segments[i].empty()) return false;
      params.push_back(percent_decode(segments[i]));
    } else if (route.segments[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

Router::Match Router::match(const httplib::Request& request) const {
  const auto segments = split_path(raw_path(request.target));
  // httplib serves HEAD through the GET handlers; route it the same way.
  const std::string_view method = request.method == "HEAD" ? "GET" : std::string_view(request.method);
  std::string allowed;
  Match found;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    if (!match(routes_[i], segments, found.params)) continue;
    if (routes_[i].method == method) {
      found.route = i;
      return found;
    }
    if (!allowed.empty()) allowed += ", ";
    allowed += routes_[i].method;
  }
  found.params.clear();
  if (allowed.empty()) {
    found.refusal = json_error(404, "Not Found");
  } else {
    found.refusal = json_error(405, "Method Not Allowed");
    found.refusal->headers.emplace_back("Allow", allowed);
  }
  return found;
}

Reply Router::run(const Match& match, const httplib::Request& request) const {
  return routes_[match.route].handler(request, match.params);
}

Reply Router::dispatch(const httplib::Request& request) const {
  Match found = match(request);
  return found.refusal ? *std::move(found.refusal) : run(found, request);
}

}  // namespace sfmc::sim
