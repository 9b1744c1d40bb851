// The status lookups (reference §4): GET /messaging/v1/{sms|email}/messages/{messageKey}
// for the recipients the transactional routes accepted, and
// GET /sms/v1/{messageContact|messageList}/{id}/deliveries/{tokenId} for the
// MobileConnect sends that got a tokenId.
#pragma once

#include <string>

#include "sim_context.h"
#include "sim_router.h"

namespace sfmc::sim {

// 200 with the message's event (Queued until options.status_delay has
// passed, then Sent); 404 for a key this channel never accepted or that the
// record limit has dropped.
Reply message_status(Channel channel, const std::string& message_key, SimContext& context);

// 200 with the send's tracking (Queuing, then Finished); 400 {"errors":[...]}
// with SFMC's documented sentences for a malformed message id, a tokenId the
// simulator did not issue (or has dropped) and a tokenId of another message.
Reply delivery_status(MobileConnectRoute route, const std::string& message_id, const std::string& token_id,
                      SimContext& context);

// SFMC's status timestamps: US Central Standard Time all year (UTC-6, no
// DST), no zone suffix, .NET-style fraction without trailing zeros, e.g.
// "2018-08-03T13:41:18.55".
std::string central_standard_time(TimePoint time);

}  // namespace sfmc::sim
