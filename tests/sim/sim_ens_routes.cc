#include "sim_ens_routes.h"

#include <httplib.h>
#include <openssl/rand.h>

#include <algorithm>

#include "sfmc/ens.h"
#include "sim_context.h"
#include "sim_json.h"

namespace sfmc::sim {
namespace {

Reply bad_request(std::string_view message) {
  return Reply{400, json::rest_error(0, message), {}};
}
Reply not_found(std::string_view message) {
  return Reply{404, json::rest_error(0, message), {}};
}

std::string random_base64(size_t bytes) {
  std::string raw(bytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes));
  std::string text((bytes + 2) / 3 * 4, '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()), reinterpret_cast<const unsigned char*>(raw.data()),
                  static_cast<int>(bytes));
  return text;
}

// SFMC's rule (https, no port, no query), or a loopback URL with a port.
bool acceptable_url(const std::string& url) {
  if (url.find('?') != std::string::npos) return false;
  for (const char* loopback : {"http://127.0.0.1:", "https://127.0.0.1:", "http://localhost:", "https://localhost:"})
    if (url.starts_with(loopback)) return true;
  if (!url.starts_with("https://")) return false;
  const auto host_end = url.find('/', 8);
  return url.substr(8, host_end == std::string::npos ? std::string::npos : host_end - 8).find(':') == std::string::npos;
}

// ENS posts the verification pair to a new callback; it must answer 200.
bool verification_answered(const EnsCallback& callback) {
  const auto path_at = callback.url.find('/', callback.url.find("://") + 3);
  httplib::Client client(callback.url.substr(0, path_at));
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(30, 0);
  json::Writer body;
  body.begin_object().str_field("callbackId", callback.id).str_field("verificationKey", callback.verification_key);
  auto answer = client.Post(path_at == std::string::npos ? "/" : callback.url.substr(path_at).c_str(),
                            body.end_object().text(), "application/json");
  return answer && answer->status == 200;
}

void write_callback(json::Writer& out, const EnsCallback& c, bool with_key) {
  out.begin_object().str_field("callbackId", c.id).str_field("callbackName", c.name).str_field("url", c.url);
  out.int_field("maxBatchSize", c.max_batch_size).str_field("status", c.verified ? "verified" : "unverified");
  if (with_key) out.str_field("signatureKey", c.signature_key);
  out.end_object();
}

void write_subscription(json::Writer& out, const EnsSubscription& s) {
  out.begin_object().str_field("subscriptionId", s.id).str_field("subscriptionName", s.name);
  out.str_field("callbackId", s.callback_id).key("eventCategoryTypes").begin_array();
  for (const auto& type : s.event_types) out.string(type);
  out.end_array().str_field("status", "active").end_object();
}

}  // namespace

void EnsRegistry::accepted(const std::vector<std::pair<std::string, MessageRecord>>& records) {
  std::lock_guard lock(mutex);
  for (auto& [id, feed] : feeds) feed->accepted(records);
}

EnsFeedStats EnsRegistry::stats() const {
  EnsFeedStats sum;
  std::lock_guard lock(mutex);
  for (const auto& [id, feed] : feeds) sum += feed->stats();
  return sum;
}

void add_ens_routes(Router& router, SimContext& context, EnsRegistry& registry,
                    const std::function<Router::Handler(Router::Handler)>& authed) {
  auto& ids = context.ids;
  router.add("POST", "/platform/v1/ens-callbacks",
             authed([&registry, &ids](const httplib::Request& request, const PathParams&) -> Reply {
               rapidjson::Document doc;
               if (!json::parse(request.body, doc) || !doc.IsArray() || doc.Empty())
                 return bad_request("The body must be an array of callbacks.");
               std::vector<EnsCallback> created;
               for (const auto& item : doc.GetArray()) {
                 const auto* name = json::member(item, "callbackName");
                 const auto* url = json::member(item, "url");
                 const auto* size = json::member(item, "maxBatchSize");
                 if (name == nullptr || !name->IsString() || url == nullptr || !url->IsString())
                   return bad_request("callbackName and url are required.");
                 EnsCallback c{ids.request_id(), std::string(json::string_view_of(*name)),
                               std::string(json::string_view_of(*url)), random_base64(32), random_base64(24)};
                 if (!acceptable_url(c.url))
                   return bad_request("url must be https://host[/path], without a port or a query string.");
                 if (size != nullptr) {
                   if (!size->IsInt() || size->GetInt() < 100 || size->GetInt() > 1000)
                     return bad_request("maxBatchSize must be between 100 and 1000.");
                   c.max_batch_size = size->GetInt();
                 }
                 {
                   std::lock_guard lock(registry.mutex);
                   for (const auto& known : registry.callbacks)
                     if (known.url == c.url) return bad_request("A callback with this url already exists.");
                 }
                 if (!verification_answered(c))
                   return bad_request("The callback did not answer the verification request with 200.");
                 created.push_back(std::move(c));
               }
               json::Writer out;
               out.begin_array();
               std::lock_guard lock(registry.mutex);
               for (auto& c : created) {
                 write_callback(out, c, /*with_key=*/true);  // the only time the key is shown
                 registry.callbacks.push_back(std::move(c));
               }
               return Reply{200, out.end_array().text(), {}};
             }));
  router.add("GET", "/platform/v1/ens-callbacks", authed([&registry](const httplib::Request&, const PathParams&) {
               json::Writer out;
               out.begin_array();
               std::lock_guard lock(registry.mutex);
               for (const auto& c : registry.callbacks) write_callback(out, c, false);
               return Reply{200, out.end_array().text(), {}};
             }));
  router.add("DELETE", "/platform/v1/ens-callbacks/{callbackId}",
             authed([&registry](const httplib::Request&, const PathParams& params) -> Reply {
               std::lock_guard lock(registry.mutex);
               auto& list = registry.callbacks;
               auto it = std::find_if(list.begin(), list.end(), [&](const auto& c) { return c.id == params[0]; });
               if (it == list.end()) return not_found("No such callback.");
               list.erase(it);
               std::erase_if(registry.subscriptions, [&](const auto& s) {
                 if (s.callback_id == params[0]) registry.feeds.erase(s.id);
                 return s.callback_id == params[0];
               });
               return Reply{200, R"({"deleted":true})", {}};
             }));
  router.add("POST", "/platform/v1/ens-verify",
             authed([&registry](const httplib::Request& request, const PathParams&) -> Reply {
               auto pair = read_ens_verification(request.body);
               if (!pair) return bad_request("callbackId and verificationKey are required.");
               std::lock_guard lock(registry.mutex);
               for (auto& c : registry.callbacks)
                 if (c.id == pair->callback_id) {
                   if (c.verification_key.empty() || c.verification_key != pair->verification_key)
                     return bad_request("The verificationKey is not valid for this callback.");
                   c.verified = true;
                   c.verification_key.clear();  // single use
                   json::Writer out;
                   out.begin_object().str_field("callbackId", c.id).bool_field("verified", true).end_object();
                   return Reply{200, out.text(), {}};
                 }
               return not_found("No such callback.");
             }));
  router.add("POST", "/platform/v1/ens-subscriptions",
             authed([&registry, &ids](const httplib::Request& request, const PathParams&) -> Reply {
               rapidjson::Document doc;
               if (!json::parse(request.body, doc) || !doc.IsArray() || doc.Empty())
                 return bad_request("The body must be an array of subscriptions.");
               json::Writer out;
               out.begin_array();
               std::lock_guard lock(registry.mutex);
               std::vector<EnsSubscription> created;
               for (const auto& item : doc.GetArray()) {
                 const auto* name = json::member(item, "subscriptionName");
                 const auto* callback = json::member(item, "callbackId");
                 const auto* types = json::member(item, "eventCategoryTypes");
                 if (name == nullptr || !name->IsString() || callback == nullptr || !callback->IsString() ||
                     types == nullptr || !types->IsArray() || types->Empty())
                   return bad_request("subscriptionName, callbackId and eventCategoryTypes are required.");
                 EnsSubscription s{ids.request_id(),
                                   std::string(json::string_view_of(*name)),
                                   std::string(json::string_view_of(*callback)),
                                   {}};
                 for (const auto& type : types->GetArray())
                   if (type.IsString()) s.event_types.emplace_back(json::string_view_of(type));
                 auto c = std::find_if(registry.callbacks.begin(), registry.callbacks.end(),
                                       [&](const auto& known) { return known.id == s.callback_id; });
                 if (c == registry.callbacks.end()) return bad_request("No such callback.");
                 if (!c->verified) return bad_request("The callback is not verified.");
                 created.push_back(std::move(s));
               }
               for (auto& s : created) {
                 write_subscription(out, s);
                 const auto& c = *std::find_if(registry.callbacks.begin(), registry.callbacks.end(),
                                               [&](const auto& known) { return known.id == s.callback_id; });
                 EnsFeedOptions feed = registry.feed_defaults;
                 feed.callback_url = c.url;
                 feed.signature_key = c.signature_key;
                 feed.max_batch = static_cast<std::size_t>(c.max_batch_size);
                 feed.event_types = s.event_types;
                 feed.on_acknowledged = nullptr;
                 registry.feeds[s.id] = std::make_unique<EnsFeed>(feed);
                 registry.subscriptions.push_back(std::move(s));
               }
               return Reply{200, out.end_array().text(), {}};
             }));
  router.add("GET", "/platform/v1/ens-subscriptions-by-cb/{callbackId}",
             authed([&registry](const httplib::Request&, const PathParams& params) {
               json::Writer out;
               out.begin_array();
               std::lock_guard lock(registry.mutex);
               for (const auto& s : registry.subscriptions)
                 if (s.callback_id == params[0]) write_subscription(out, s);
               return Reply{200, out.end_array().text(), {}};
             }));
  router.add("DELETE", "/platform/v1/ens-subscriptions/{subscriptionId}",
             authed([&registry](const httplib::Request&, const PathParams& params) -> Reply {
               std::lock_guard lock(registry.mutex);
               const auto erased =
                   std::erase_if(registry.subscriptions, [&](const auto& s) { return s.id == params[0]; });
               if (erased == 0) return not_found("No such subscription.");
               registry.feeds.erase(params[0]);
               return Reply{200, R"({"deleted":true})", {}};
             }));
}

}  // namespace sfmc::sim
