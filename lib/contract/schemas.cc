#include "contract/embedded_schemas.h"
#include "core/operations.h"

namespace sfmc::schemas {

extern const std::string_view kSmsSend, kSmsSendOne, kEmailSend, kMessageContactSend, kMessageListSend;

std::string_view body(Operation operation) {
  switch (operation) {
    case Operation::TransactionalSmsSend: return kSmsSend;
    case Operation::TransactionalSmsSendOne: return kSmsSendOne;
    case Operation::TransactionalEmailSend: return kEmailSend;
    case Operation::MessageContactSend: return kMessageContactSend;
    case Operation::MessageListSend: return kMessageListSend;
  }
  return kSmsSend;
}

std::optional<std::string_view> by_name(std::string_view name) {
  if (name == "event") return kEvent;
  if (name == "outcome") return kOutcome;
  if (name == "config") return kConfig;
  if (auto operation = operation_from_name(name)) return body(*operation);
  return std::nullopt;
}

}  // namespace sfmc::schemas
