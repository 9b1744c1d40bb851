// What the route handlers share: the options and the state, passed down
// explicitly rather than reached through globals.
#pragma once

#include "sim_contract.h"
#include "sim_ens_feed.h"
#include "sim_ens_routes.h"
#include "sim_message_keys.h"
#include "sim_state.h"
#include "sim_stats.h"
#include "sim_status_store.h"
#include "sim_types.h"

namespace sfmc::sim {

struct SimContext {
  const SimOptions& options;
  Clock clock;
  TokenStore& tokens;
  MessageKeyRegistry& message_keys;
  IdGenerator& ids;
  BodyContract& contract;
  StatusStore& statuses;
  SimStats& stats;
  EnsFeed* ens = nullptr;  // the ENS feed, when options.ens names a callback
  EnsRegistry* ens_registry = nullptr;  // ENS callbacks and subscriptions (/platform/v1/ens-*)
};

}  // namespace sfmc::sim
