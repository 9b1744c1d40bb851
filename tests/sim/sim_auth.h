// OAuth2 client-credentials token endpoint and the bearer check guarding
// every REST route (reference §1).
#pragma once

#include <optional>

#include "sim_context.h"
#include "sim_router.h"

namespace sfmc::sim {

// POST /v2/token
Reply issue_token(const httplib::Request& request, SimContext& context);

// nullopt when the request carries a token that was issued and has not
// expired; otherwise SFMC's 401 "Not Authorized" reply.
std::optional<Reply> check_bearer(const httplib::Request& request, const SimContext& context);

// SFMC's 401 for a REST call: {"documentation":"","errorcode":0,"message":"Not Authorized"}.
Reply not_authorized();

}  // namespace sfmc::sim
