// The five SFMC send routes and the operation names events use for them.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "core/event.h"

namespace sfmc {

struct OperationInfo {
  Operation operation;
  std::string_view name;            // as written in events, e.g. "transactional.sms.send"
  std::string_view path_parameter;  // envelope field feeding the path, "" when none
  std::string_view path_prefix;     // path before the parameter (or the whole path)
  std::string_view path_suffix;     // path after the parameter
};

inline constexpr std::array<OperationInfo, 5> kOperations{{
    {Operation::TransactionalSmsSend, "transactional.sms.send", "", "/messaging/v1/sms/messages/", ""},
    {Operation::TransactionalSmsSendOne, "transactional.sms.sendOne", "messageKey", "/messaging/v1/sms/messages/",
     ""},
    {Operation::TransactionalEmailSend, "transactional.email.send", "", "/messaging/v1/email/messages/", ""},
    {Operation::MessageContactSend, "mobileconnect.messageContact.send", "messageId", "/sms/v1/messageContact/",
     "/send"},
    {Operation::MessageListSend, "mobileconnect.messageList.send", "messageId", "/sms/v1/messageList/", "/send"},
}};

const OperationInfo& info(Operation operation);
std::optional<Operation> operation_from_name(std::string_view name);

// Percent-encodes a path segment (RFC 3986 unreserved characters pass through).
std::string encode_path_segment(std::string_view segment);

// The request path for an operation, with its parameter encoded.
std::string request_path(Operation operation, std::string_view path_parameter);

}  // namespace sfmc
