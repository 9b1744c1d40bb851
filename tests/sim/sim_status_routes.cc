#include "sim_status_routes.h"

#include <cstdio>
#include <ctime>

#include "sim_errors.h"
#include "sim_json.h"
#include "sim_mobileconnect.h"

namespace sfmc::sim {
namespace {

Reply mc_error(std::string sentence) { return Reply{400, json::mc_errors({std::move(sentence)}), {}}; }

bool is_due(TimePoint since, const SimContext& context) {
  return context.clock() - since >= context.options.status_delay;
}

// Per number, the rows a carrier reports, in the order they may arrive:
// the final state first, so clients must pick the highest standardStatusCode.
void write_tracking(json::Writer& out, const std::vector<std::string>& numbers) {
  struct Row {
    std::string_view status_code, message, standard_code, description;
  };
  constexpr Row kRows[] = {
      {"200", "Carrier Success", "4000", "Delivered"},  // [sim] wording
      {"20", "NA", "3000", "Message enroute"},           // [doc] example row
  };
  out.key("tracking").begin_array();
  for (const auto& number : numbers) {
    for (const auto& row : kRows) {
      out.begin_object().str_field("mobileNumber", number).str_field("statusCode", row.status_code);
      out.str_field("message", row.message).str_field("standardStatusCode", row.standard_code);
      out.str_field("description", row.description).end_object();
    }
  }
  out.end_array();
}

}  // namespace

std::string central_standard_time(TimePoint time) {
  using namespace std::chrono;
  const auto central = time - hours(6);
  const auto seconds = floor<std::chrono::seconds>(central);
  const std::time_t whole = system_clock::to_time_t(seconds);
  std::tm fields{};
  gmtime_r(&whole, &fields);
  char text[48];
  auto length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &fields);
  // 100 ns ticks, as .NET prints them, without trailing zeros.
  auto ticks = duration_cast<nanoseconds>(central - seconds).count() / 100;
  if (ticks > 0) {
    int digits = 7;
    while (ticks % 10 == 0) {
      ticks /= 10;
      --digits;
    }
    length += static_cast<std::size_t>(std::snprintf(text + length, sizeof text - length, ".%0*lld", digits,
                                                     static_cast<long long>(ticks)));
  }
  return std::string(text, length);
}

Reply message_status(Channel channel, const std::string& message_key, SimContext& context) {
  const auto record = context.statuses.message(message_key);
  if (!record || record->channel != channel) {
    return Reply{404, json::rest_error(kNotFoundCode, kMessageKeyNotFound), {}};
  }
  const std::string_view prefix =
      channel == Channel::kSms ? "TransactionalSendEvents.SMS" : "TransactionalSendEvents.Email";
  json::Writer out;
  out.begin_object().str_field("requestId", context.ids.request_id());
  if (!is_due(record->accepted_at, context)) {
    // As in SFMC's example: a queued message has no compositeId or info yet.
    out.str_field("eventCategoryType", std::string(prefix) + "Queued");
    out.str_field("timestamp", central_standard_time(record->accepted_at));
    return Reply{200, out.end_object().text(), {}};
  }
  out.str_field("eventCategoryType", std::string(prefix) + "Sent");
  out.str_field("timestamp", central_standard_time(record->accepted_at + context.options.status_delay));
  out.str_field("compositeId", record->composite_id).key("info").begin_object();
  out.str_field("messageKey", message_key).str_field("contactKey", record->contact_key);
  out.str_field("to", record->to).end_object();
  return Reply{200, out.end_object().text(), {}};
}

Reply delivery_status(MobileConnectRoute route, const std::string& message_id, const std::string& token_id,
                      SimContext& context) {
  if (!is_encoded_id(message_id)) return mc_error(fill(mc::kInvalidMessageId, message_id));
  const auto record = context.statuses.delivery(token_id);
  if (!record) return mc_error(fill(mc::kInvalidTokenId, token_id));
  if (record->route != route || record->message_id != message_id) {
    return mc_error(fill(mc::kTokenForOtherMessage, token_id, message_id));
  }
  const bool finished = is_due(record->created_at, context);
  json::Writer out;
  out.begin_object().str_field("message", record->message_text);
  out.int_field("count", static_cast<std::int64_t>(record->mobile_numbers.size()));
  out.str_field("createDate", central_standard_time(record->created_at));
  if (finished) out.str_field("completeDate", central_standard_time(record->created_at + context.options.status_delay));
  out.str_field("status", finished ? "Finished" : "Queuing");
  write_tracking(out, finished ? record->mobile_numbers : std::vector<std::string>{});
  return Reply{200, out.end_object().text(), {}};
}

}  // namespace sfmc::sim
