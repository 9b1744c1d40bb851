// ENS set-up (reference: sfmc-ens.md, "Setting it up"): callbacks and
// subscriptions under /platform/v1/ens-*. Creating a callback posts the
// verification pair to its URL at once (answered 200, else the creation
// fails); ens-verify with that pair makes it usable; subscriptions need a
// verified callback. SFMC takes only https://host[/path] on port 443; the
// simulator also takes a loopback URL with a port, so that a receiver on
// this machine can be registered.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sim_ens_feed.h"
#include "sim_router.h"

namespace sfmc::sim {

struct SimContext;

struct EnsCallback {
  std::string id, name, url, signature_key, verification_key;
  int max_batch_size = 1000;
  bool verified = false;
};

struct EnsSubscription {
  std::string id, name, callback_id;
  std::vector<std::string> event_types;
};

// Each subscription gets a feed of its own (EnsFeed): its callback's URL
// and signature key, its event types, the callback's maxBatchSize.
class EnsRegistry {
 public:
  mutable std::mutex mutex;
  std::vector<EnsCallback> callbacks;
  std::vector<EnsSubscription> subscriptions;
  EnsFeedOptions feed_defaults;                           // the rest of a feed's options (delays, CA, repeats)
  std::map<std::string, std::unique_ptr<EnsFeed>> feeds;  // by subscription id

  // Transactional recipients just accepted: to every subscription's feed.
  void accepted(const std::vector<std::pair<std::string, MessageRecord>>& records);
  EnsFeedStats stats() const;  // the feeds' together
};

// Adds the routes, each behind `authed` (SFMC's bearer check).
void add_ens_routes(Router& router, SimContext& context, EnsRegistry& registry,
                    const std::function<Router::Handler(Router::Handler)>& authed);

}  // namespace sfmc::sim
