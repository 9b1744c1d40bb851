// Value types that travel along the pipeline:
// Kafka record -> InboundEvent -> SendRequest -> SendResult -> Outcome.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sfmc {

// Where a record came from; every outcome carries it back.
struct InputCoordinates {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

// A Kafka record copied out of librdkafka, so nothing downstream holds a
// rd_kafka_message_t.
struct InboundEvent {
  InputCoordinates input;
  std::optional<std::string> key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t timestamp_ms = -1;  // producer/broker timestamp, -1 if unknown

  // The first header of that name; nullptr when there is none.
  const std::string* header(std::string_view name) const {
    for (const auto& h : headers)
      if (h.first == name) return &h.second;
    return nullptr;
  }
};

enum class Operation {
  TransactionalSmsSend,     // POST /messaging/v1/sms/messages/
  TransactionalSmsSendOne,  // POST /messaging/v1/sms/messages/{messageKey}
  TransactionalEmailSend,   // POST /messaging/v1/email/messages/
  MessageContactSend,       // POST /sms/v1/messageContact/{id}/send
  MessageListSend,          // POST /sms/v1/messageList/{id}/send
};

// One problem with an event or one refusal by SFMC.
struct ErrorDetail {
  std::string message;
  std::string pointer;             // JSON pointer into the event, when known
  std::optional<int64_t> code;     // SFMC error code, when known
  std::string message_key;         // the recipient SFMC refused, when known
};

// A Transactional send taken apart so that it can share one call of its
// channel's batch route with other events (see sfmc/client.h): every
// recipient has its messageKey, by which SFMC's answers are mapped back.
struct MergeableSend {
  Operation route;                        // TransactionalSmsSend or TransactionalEmailSend
  std::string shared;                     // the body's members but recipient(s), serialised, without braces
  std::vector<std::string> recipients;    // each recipient object, serialised, its messageKey included
  std::vector<std::string> message_keys;  // the recipients' keys, in the same order
};

// A validated event, ready to become an HTTP call.
struct SendRequest {
  std::string id;
  Operation operation;
  std::string account;
  std::string path_parameter;  // messageKey or message id, empty when the route has none
  std::string body;            // the SFMC JSON body, serialised as received
  std::optional<MergeableSend> mergeable;  // empty: it goes alone
  uint64_t tag = 0;                        // the sender's own, handed back when it is first sent
  // An earlier delivery of this event may have reached SFMC (a redriven
  // `failed` event): a 109110 on any of its keys means that one went through.
  bool may_have_been_sent = false;
};

enum class OutcomeStatus {
  Accepted,           // SFMC queued every recipient
  PartiallyAccepted,  // 202 with some recipients refused (errorcode 109001)
  Invalid,            // the event is wrong; nothing was sent
  Rejected,           // SFMC refused the request; retrying cannot help
  Failed,             // retryable errors persisted past the retry budget
};

struct Outcome {
  std::string id;
  std::string operation;  // operation name as in the event, may be empty when undecodable
  std::string account;
  OutcomeStatus status = OutcomeStatus::Failed;
  int http_status = 0;  // 0 when no HTTP response was received
  std::string request_id;
  std::vector<std::string> message_keys;
  std::string token_id;
  std::vector<ErrorDetail> errors;
  int attempts = 0;
  InputCoordinates input;
};

}  // namespace sfmc
