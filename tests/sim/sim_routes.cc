#include "sim_routes.h"

#include <httplib.h>

#include <cstdio>
#include <ctime>

#include "sim_auth.h"
#include "sim_ens_routes.h"
#include "sim_json.h"
#include "sim_mobileconnect.h"
#include "sim_status_routes.h"
#include "sim_transactional.h"

namespace sfmc::sim {
namespace {

// "2024-05-01T12:34:56.789Z"
std::string iso8601(TimePoint time) {
  const auto since_epoch = time.time_since_epoch();
  const std::time_t seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const auto length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + length, sizeof text - length, ".%03dZ", static_cast<int>(millis));
  return text;
}

std::string requests_json(const std::vector<RecordedRequest>& requests) {
  json::Writer out;
  out.begin_array();
  for (const auto& request : requests) {
    out.begin_object().str_field("method", request.method).str_field("path", request.path);
    out.str_field("query", request.query).key("headers").begin_object();
    for (const auto& [name, value] : request.headers) out.str_field(name, value);
    out.end_object().str_field("body", request.body).str_field("time", iso8601(request.time));
    out.int_field("status", request.status).str_field("response", request.response).end_object();
  }
  return out.end_array().text();
}

Reply ok(std::string body) { return Reply{200, std::move(body), {}}; }

// Wraps a REST handler in SFMC's bearer check.
template <typename Inner>
Router::Handler authed(SimContext& context, Inner inner) {
  return [&context, inner = std::move(inner)](const httplib::Request& request, const PathParams& params) {
    if (auto denied = check_bearer(request, context)) return *std::move(denied);
    return inner(request, params);
  };
}

}  // namespace

void add_sfmc_routes(Router& router, SimContext& context) {
  auto& ctx = context;
  if (context.ens_registry != nullptr)
    add_ens_routes(router, context, *context.ens_registry,
                   [&ctx](Router::Handler handler) { return authed(ctx, std::move(handler)); });
  router.add(
      "POST", "/v2/token", [&ctx](const auto& request, const auto&) { return issue_token(request, ctx); },
      FaultScope::kToken);
  for (const auto& [prefix, channel] : {std::pair{"/messaging/v1/sms/messages", Channel::kSms},
                                        std::pair{"/messaging/v1/email/messages", Channel::kEmail}}) {
    const Channel route_channel = channel;
    const std::string base = prefix;
    router.add("POST", base,
               authed(ctx, [&ctx, route_channel](const auto& request, const auto&) {
                 return send_batch(request, route_channel, ctx);
               }),
               FaultScope::kSend);
    router.add("POST", base + "/{messageKey}",
               authed(ctx, [&ctx, route_channel](const auto& request, const auto& params) {
                 return send_single(request, route_channel, params[0], ctx);
               }),
               FaultScope::kSend);
    router.add("GET", base + "/{messageKey}", authed(ctx, [&ctx, route_channel](const auto&, const auto& params) {
                 return message_status(route_channel, params[0], ctx);
               }));
  }
  for (const auto& [name, route] : {std::pair{"messageContact", MobileConnectRoute::kMessageContact},
                                    std::pair{"messageList", MobileConnectRoute::kMessageList}}) {
    const MobileConnectRoute kind = route;
    const std::string base = std::string("/sms/v1/") + name + "/{id}";
    router.add("POST", base + "/send",
               authed(ctx, [&ctx, kind](const auto& request, const auto& params) {
                 return kind == MobileConnectRoute::kMessageContact ? send_message_contact(request, params[0], ctx)
                                                                     : send_message_list(request, params[0], ctx);
               }),
               FaultScope::kSend);
    router.add("GET", base + "/deliveries/{tokenId}", authed(ctx, [&ctx, kind](const auto&, const auto& params) {
                 return delivery_status(kind, params[0], params[1], ctx);
               }));
  }
}

StatsSnapshot collect_stats(const SimContext& context, const FaultPlan& faults) {
  StatsSnapshot stats = context.stats.snapshot();
  stats.message_keys = context.message_keys.size();
  stats.message_keys_forgotten_early = context.message_keys.forgotten_early();
  stats.message_records = context.statuses.message_count();
  stats.delivery_records = context.statuses.delivery_count();
  stats.capacity = faults.capacity().stats(std::chrono::steady_clock::now());
  if (context.ens != nullptr) stats.ens = context.ens->stats();
  if (context.ens_registry != nullptr) stats.ens += context.ens_registry->stats();
  return stats;
}

void reset_stats(SimContext& context, FaultPlan& faults) {
  context.stats.reset();
  faults.capacity().reset_stats();
}

std::string apply_faults_json(std::string_view json, FaultPlan& faults, SimContext& context) {
  std::string error;
  auto config = parse_fault_config(json, error);
  if (!config) return error;
  rapidjson::Document document;
  json::parse(json, document);
  const auto* expire = json::member(document, "expire_tokens");
  if (expire != nullptr && expire->IsBool() && expire->GetBool()) {
    context.tokens.expire_all();
    context.stats.count_fault("expire_tokens");
  }
  faults.configure(*std::move(config));
  return "";
}

void add_inspection_routes(Router& router, InspectionState state) {
  router.add("GET", "/_sim/health", [](const auto&, const auto&) { return ok(R"({"status":"ok"})"); });
  router.add("GET", "/_sim/requests",
             [state](const auto&, const auto&) { return ok(requests_json(state.log.snapshot())); });
  router.add("DELETE", "/_sim/requests", [state](const auto&, const auto&) {
    state.log.clear();
    return ok("{}");
  });
  router.add("GET", "/_sim/faults",
             [state](const auto&, const auto&) { return ok(fault_config_json(state.faults.config())); });
  router.add("PUT", "/_sim/faults", [state](const httplib::Request& request, const auto&) {
    if (auto error = apply_faults_json(request.body, state.faults, state.context); !error.empty()) {
      return Reply{400, json::rest_error(0, error), {}};
    }
    return ok(fault_config_json(state.faults.config()));
  });
  router.add("DELETE", "/_sim/faults", [state](const auto&, const auto&) {
    state.faults.configure(FaultConfig{});
    return ok(fault_config_json(state.faults.config()));
  });
  router.add("GET", "/_sim/stats",
             [state](const auto&, const auto&) { return ok(stats_json(collect_stats(state.context, state.faults))); });
  router.add("DELETE", "/_sim/stats", [state](const auto&, const auto&) {
    reset_stats(state.context, state.faults);
    return ok("{}");
  });
  router.add("DELETE", "/_sim/tokens", [state](const auto&, const auto&) {
    state.context.tokens.expire_all();
    state.context.stats.count_fault("expire_tokens");
    return ok("{}");
  });
}

}  // namespace sfmc::sim
