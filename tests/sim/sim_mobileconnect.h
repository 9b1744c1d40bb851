// MobileConnect sends: /sms/v1/messageContact/{id}/send and
// /sms/v1/messageList/{id}/send (seeds 003, 004, reference §3). Errors are
// collected, not first-wins, because SFMC lists several in one 400.
#pragma once

#include <string>

#include "sim_context.h"
#include "sim_router.h"

namespace sfmc::sim {

Reply send_message_contact(const httplib::Request& request, const std::string& message_id, SimContext& context);
Reply send_message_list(const httplib::Request& request, const std::string& message_id, SimContext& context);

}  // namespace sfmc::sim
