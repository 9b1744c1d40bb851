#include "core/outcome_json.h"

#include "core/json_writer.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sfmc {

std::string_view to_string(OutcomeStatus status) {
  switch (status) {
    case OutcomeStatus::Accepted: return "accepted";
    case OutcomeStatus::PartiallyAccepted: return "partially_accepted";
    case OutcomeStatus::Invalid: return "invalid";
    case OutcomeStatus::Rejected: return "rejected";
    case OutcomeStatus::Failed: return "failed";
  }
  return "failed";
}

namespace {

using Writer = JsonWriter;

void put_error(Writer& w, const ErrorDetail& e) {
  w.StartObject();
  put(w, "message", e.message);
  if (!e.pointer.empty()) put(w, "pointer", e.pointer);
  if (e.code) {
    w.Key("code");
    w.Int64(*e.code);
  }
  if (!e.message_key.empty()) put(w, "messageKey", e.message_key);
  w.EndObject();
}

}  // namespace

std::string to_json(const Outcome& o) {
  rapidjson::StringBuffer buffer(nullptr, 1024);
  Writer w(buffer);
  w.StartObject();
  w.Key("version");
  w.Int(1);
  put(w, "id", o.id);
  put(w, "operation", o.operation);
  put(w, "account", o.account);
  put(w, "status", to_string(o.status));
  w.Key("httpStatus");
  w.Int(o.http_status);
  if (!o.request_id.empty()) put(w, "requestId", o.request_id);
  if (!o.message_keys.empty()) {
    w.Key("messageKeys");
    w.StartArray();
    for (const auto& k : o.message_keys) w.String(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    w.EndArray();
  }
  if (!o.token_id.empty()) put(w, "tokenId", o.token_id);
  w.Key("errors");
  w.StartArray();
  for (const auto& e : o.errors) put_error(w, e);
  w.EndArray();
  w.Key("attempts");
  w.Int(o.attempts);
  w.Key("input");
  w.StartObject();
  put(w, "topic", o.input.topic);
  w.Key("partition");
  w.Int(o.input.partition);
  w.Key("offset");
  w.Int64(o.input.offset);
  w.EndObject();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace sfmc
