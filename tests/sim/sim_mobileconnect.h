// MobileConnect sends: /sms/v1/messageContact/{id}/send and
// /sms/v1/messageList/{id}/send (seeds 003, 004, reference §3). The body
// goes through the relay's contract (sim_contract.h); errors are collected,
// not first-wins, because SFMC lists several in one 400.
#pragma once

#include <string>
#include <string_view>

#include "sim_context.h"
#include "sim_router.h"

namespace sfmc::sim {

// Message and list ids are encoded ids like "MzA6Nzg6MA" (base64 alphabet).
// Whether an id exists is SFMC's data; the simulator knows only the shape.
bool is_encoded_id(std::string_view id);

Reply send_message_contact(const httplib::Request& request, const std::string& message_id, SimContext& context);
Reply send_message_list(const httplib::Request& request, const std::string& message_id, SimContext& context);

}  // namespace sfmc::sim
