// The route table: SFMC's routes, and the simulator's own /_sim/ routes for
// tests, the benchmark and local development.
#pragma once

#include "sim_context.h"
#include "sim_fault_plan.h"
#include "sim_router.h"
#include "sim_state.h"
#include "sim_stats.h"

namespace sfmc::sim {

// POST /v2/token, the five send routes (FaultScope::kSend; the token route
// FaultScope::kToken) and the four status lookups. REST routes check the
// bearer token.
void add_sfmc_routes(Router& router, SimContext& context);

struct InspectionState {
  SimContext& context;
  RequestLog& log;
  FaultPlan& faults;
};

// GET /_sim/health; GET, DELETE /_sim/requests; GET, PUT, DELETE
// /_sim/faults; GET, DELETE /_sim/stats; DELETE /_sim/tokens.
void add_inspection_routes(Router& router, InspectionState state);

// The counters plus the sizes of the bounded state and the capacity model.
StatsSnapshot collect_stats(const SimContext& context, const FaultPlan& faults);
// DELETE /_sim/stats: zeroes the counters, the capacity model's included.
void reset_stats(SimContext& context, FaultPlan& faults);

// Applies a faults JSON document: replaces the plan's config and, when it
// says "expire_tokens": true, invalidates every token issued so far. Returns
// "" or the reason the document was refused (nothing is applied then).
std::string apply_faults_json(std::string_view json, FaultPlan& faults, SimContext& context);

}  // namespace sfmc::sim
