// Transactional Messaging sends: /messaging/v1/{sms|email}/messages[/{key}]
// (seeds 000-002, reference §2).
#pragma once

#include <string>

#include "sim_context.h"
#include "sim_router.h"

namespace sfmc::sim {

// POST /messaging/v1/{channel}/messages/ with "recipients".
Reply send_batch(const httplib::Request& request, Channel channel, SimContext& context);

// POST /messaging/v1/{channel}/messages/{messageKey} with "recipient".
Reply send_single(const httplib::Request& request, Channel channel, const std::string& message_key,
                  SimContext& context);

}  // namespace sfmc::sim
