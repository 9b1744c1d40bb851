// libFuzzer target for EventDecoder: whatever bytes a Kafka record carries,
// decoding must end in a SendRequest that sends the event's body (plus the
// derived messageKeys) and passes the contract, or in an InvalidEvent that
// explains itself; and the outcome the relay publishes for it must be valid
// UTF-8 JSON matching outcome.schema.json. See README.md for the list.
//
// Two input modes, so mutations also reach the body schemas and SFMC rules:
//   raw   (first byte is not 0x01): the bytes are the record value;
//   body  (first byte 0x01): the second byte picks the operation, the rest is
//         the "body" of an otherwise valid envelope for it.
// JSON never starts with 0x01, so the body mode hides no raw input worth trying.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "contract/body_rules.h"
#include "contract/embedded_schemas.h"
#include "contract/event_decoder.h"
#include "core/message_keys.h"
#include "contract/schema_validator.h"
#include "core/outcome_json.h"
#include "core/operations.h"

namespace {

constexpr uint8_t kBodyMode = 0x01;
// Parse flags the decoder uses, made iterative so a deeply nested input does
// not recurse here either.
constexpr unsigned kParseFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;

// Everything that compiles schemas is built once: libFuzzer calls the entry
// point millions of times.
struct Harness {
  const sfmc::DecoderOptions options;  // the defaults, as the daemon runs
  sfmc::EventDecoder decoder{options};
  sfmc::SchemaValidator envelope{sfmc::schemas::kEvent};
  sfmc::SchemaValidator outcome{sfmc::schemas::kOutcome};
  std::array<std::unique_ptr<sfmc::SchemaValidator>, sfmc::kOperations.size()> bodies;

  Harness() {
    for (const auto& op : sfmc::kOperations)
      bodies[static_cast<size_t>(op.operation)] =
          std::make_unique<sfmc::SchemaValidator>(sfmc::schemas::body(op.operation));
  }
};

// Control and non-ASCII bytes as \xNN, so a NUL inside a pointer shows.
std::string printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

[[noreturn]] void violated(std::string_view invariant, std::string_view detail) {
  std::fprintf(stderr, "decode_fuzz: invariant violated: %.*s\n  detail: %s\n", static_cast<int>(invariant.size()),
               invariant.data(), printable(detail).c_str());
  std::abort();
}

void check(bool ok, std::string_view invariant, std::string_view detail = {}) {
  if (!ok) violated(invariant, detail);
}

std::string wrap_body(uint8_t selector, std::string_view body) {
  const sfmc::OperationInfo& op = sfmc::kOperations[selector % sfmc::kOperations.size()];
  std::string event = R"({"operation":")" + std::string(op.name) + R"(","id":"fuzz-body-1")";
  if (op.path_parameter == "messageKey") event += R"(,"messageKey":"fuzz-message-key-1")";
  if (op.path_parameter == "messageId") event += R"(,"messageId":"MzA6Nzg6MA")";
  event += R"(,"body":)";
  event.append(body);
  event += '}';
  return event;
}

std::string string_member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return {};
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

// The value a JSON pointer (RFC 6901) names, or null. Written out because
// RapidJSON 1.1's Pointer looks names up by C string, so a name containing
// NUL (legal JSON) never resolves.
const rapidjson::Value* resolve(const rapidjson::Value& root, std::string_view pointer) {
  const rapidjson::Value* at = &root;
  for (size_t i = 0; i < pointer.size();) {
    if (pointer[i] != '/') return nullptr;
    size_t end = std::min(pointer.find('/', i + 1), pointer.size());
    std::string token;
    for (size_t j = i + 1; j < end; ++j) {
      if (pointer[j] != '~') {
        token += pointer[j];
      } else if (j + 1 < end && (pointer[j + 1] == '0' || pointer[j + 1] == '1')) {
        token += pointer[++j] == '0' ? '~' : '/';
      } else {
        return nullptr;
      }
    }
    if (at->IsObject()) {
      auto member = at->FindMember(rapidjson::Value(rapidjson::StringRef(token.data(), token.size())));
      if (member == at->MemberEnd()) return nullptr;
      at = &member->value;
    } else if (at->IsArray()) {
      bool index_like = !token.empty() && token.size() <= 9 && (token.size() == 1 || token[0] != '0') &&
                        token.find_first_not_of("0123456789") == std::string::npos;
      if (!index_like || std::stoul(token) >= at->Size()) return nullptr;
      at = &(*at)[static_cast<rapidjson::SizeType>(std::stoul(token))];
    } else {
      return nullptr;
    }
    i = end;
  }
  return at;
}

// valijson's known misreadings, where only RapidJSON (which decides) is right:
// an object with a repeated member name fails its additionalProperties check,
// and strings are measured up to their first NUL.
bool valijson_misreads(const rapidjson::Value& value) {
  if (value.IsString()) return std::memchr(value.GetString(), 0, value.GetStringLength()) != nullptr;
  if (value.IsArray()) {
    for (const auto& item : value.GetArray())
      if (valijson_misreads(item)) return true;
  }
  if (value.IsObject()) {
    std::set<std::string_view> names;
    for (const auto& member : value.GetObject()) {
      std::string_view name(member.name.GetString(), member.name.GetStringLength());
      if (!names.insert(name).second || name.find('\0') != name.npos || valijson_misreads(member.value)) return true;
    }
  }
  return false;
}

// The two schema engines must agree, or the decoder's verdict depends on
// which one looked first (it accepts what either accepts).
void check_validators_agree(sfmc::SchemaValidator& validator, const rapidjson::Value& value, std::string_view what) {
  bool by_rapidjson = validator.accepted_by_rapidjson(value);
  if (by_rapidjson == validator.accepted_by_valijson(value) || valijson_misreads(value)) return;
  violated("RapidJSON and valijson disagree",
           std::string(what) + (by_rapidjson ? ": only RapidJSON accepts it" : ": only valijson accepts it"));
}

// The outcome the relay publishes must be valid UTF-8 JSON matching its schema.
void check_outcome(Harness& harness, const sfmc::Outcome& outcome) {
  std::string json = sfmc::to_json(outcome);
  rapidjson::Document doc;
  doc.Parse<kParseFlags>(json.data(), json.size());
  check(!doc.HasParseError(), "outcome is not valid UTF-8 JSON", json);
  std::vector<sfmc::ErrorDetail> errors;
  bool valid = harness.outcome.validate(doc, "", errors);
  check(valid, "outcome violates outcome.schema.json", errors.empty() ? json : errors.front().message);
}

// `doc` is the parsed event, null when the decoder refused it unparsed.
void check_invalid(Harness& harness, const sfmc::InboundEvent& event, const rapidjson::Document* doc,
                   const sfmc::InvalidEvent& invalid) {
  check(!invalid.errors.empty(), "an InvalidEvent has no error");
  check(!invalid.id.empty(), "an InvalidEvent has an empty id");
  check(!invalid.account.empty(), "an InvalidEvent has an empty account");
  // Values refused before their envelope is read (size, depth, NUL bytes,
  // unpaired surrogates: reason not_json without a pointer) carry no operation.
  bool envelope_read = !(invalid.reason == "too_large" || invalid.reason == "too_deep" ||
                         (invalid.reason == "not_json" && invalid.errors.front().pointer.empty()));
  check(!doc || !envelope_read || invalid.operation == string_member(*doc, "operation"),
        "InvalidEvent.operation is not the event's", invalid.operation);
  for (const auto& e : invalid.errors) {
    check(!e.message.empty(), "an error message is empty", e.pointer);
    check(e.pointer.empty() || e.pointer.front() == '/', "an error pointer does not start with '/'", e.pointer);
    if (e.pointer.empty()) continue;
    check(doc != nullptr, "an error points into an event that was not parsed", e.pointer);
    check(resolve(*doc, e.pointer) != nullptr, "an error pointer names no value of the event", e.pointer);
  }

  sfmc::Outcome outcome;
  outcome.input = event.input;
  outcome.id = invalid.id;
  outcome.operation = invalid.operation;
  outcome.account = invalid.account;
  outcome.status = sfmc::OutcomeStatus::Invalid;
  outcome.errors = invalid.errors;
  check_outcome(harness, outcome);
}

void check_send_request(Harness& harness, const sfmc::InboundEvent& event, const rapidjson::Document* event_doc,
                        const sfmc::SendRequest& request) {
  check(event_doc && event_doc->IsObject(), "a SendRequest came from a value that is not a readable JSON object");
  // JSON text has no NUL byte; RapidJSON takes one for the end of input.
  check(event.value.find('\0') == std::string::npos, "a value with a NUL byte became a SendRequest", event.value);
  const rapidjson::Document& doc = *event_doc;
  const sfmc::OperationInfo& op = sfmc::info(request.operation);
  check(string_member(doc, "operation") == op.name, "SendRequest.operation is not the event's", op.name);

  std::string id = string_member(doc, "id");
  check(request.id == (id.empty() ? sfmc::event_identity(event) : id), "SendRequest.id is wrong", request.id);
  std::string account = string_member(doc, "account");
  check(request.account == (account.empty() ? "default" : account), "SendRequest.account is wrong", request.account);
  std::string path =
      op.path_parameter.empty() ? std::string() : string_member(doc, std::string(op.path_parameter).c_str());
  check(request.path_parameter == path, "SendRequest.path_parameter is wrong", request.path_parameter);
  check(op.path_parameter.empty() || !request.path_parameter.empty(), "a path parameter is empty", op.name);

  // The body is sent as received, but for the messageKeys derived for
  // Transactional recipients that had none (core/message_keys.h).
  rapidjson::Document sent;
  sent.Parse<kParseFlags>(request.body.data(), request.body.size());
  check(!sent.HasParseError() && sent.IsObject(), "SendRequest.body is not a JSON object", request.body);
  auto received = doc.FindMember("body");
  check(received != doc.MemberEnd(), "a SendRequest came from an event without a body");
  rapidjson::Document expected;
  expected.CopyFrom(received->value, expected.GetAllocator());
  if (harness.options.derive_message_keys)
    sfmc::add_derived_message_keys(expected, expected.GetAllocator(), request.id);
  // Compared as text: RapidJSON's operator== is not even reflexive when an
  // object repeats a member name.
  rapidjson::StringBuffer expected_text;
  rapidjson::Writer<rapidjson::StringBuffer> writer(expected_text);
  expected.Accept(writer);
  check(request.body == std::string_view(expected_text.GetString(), expected_text.GetSize()),
        "SendRequest.body is not the event's body (plus derived messageKeys)", request.body);

  // What is sent must itself pass the contract: derived keys may not collide
  // with the producer's own.
  std::vector<sfmc::ErrorDetail> errors;
  harness.bodies[static_cast<size_t>(request.operation)]->validate(sent, "/body", errors);
  sfmc::check_body_rules(request.operation, sent, errors);
  check(errors.empty(), "the body sent breaks the contract", errors.empty() ? "" : errors.front().message);

  sfmc::Outcome outcome;
  outcome.input = event.input;
  outcome.id = request.id;
  outcome.operation = std::string(op.name);
  outcome.account = request.account;
  outcome.status = sfmc::OutcomeStatus::Accepted;
  check_outcome(harness, outcome);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness harness;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);

  sfmc::InboundEvent event;
  event.input = {"fuzz.events", 3, 1234};
  if (size >= 2 && data[0] == kBodyMode)
    event.value = wrap_body(data[1], bytes.substr(2));
  else
    event.value.assign(bytes);

  sfmc::Decoded decoded = harness.decoder.decode(event);

  // The same parse as the decoder's; `readable` when the decoder got that far.
  rapidjson::Document parsed;
  parsed.Parse<kParseFlags>(event.value.data(), event.value.size());
  const rapidjson::Document& doc = parsed;
  // The decoder's own checks before it validates: what it refuses unread,
  // no schema engine ever sees.
  bool readable = !doc.HasParseError() && event.value.size() <= harness.options.max_event_bytes &&
                  event.value.find('\0') == std::string::npos && !sfmc::unpaired_low_surrogate(event.value) &&
                  !sfmc::nesting_exceeds(event.value, harness.options.max_depth);
  if (readable) {
    check_validators_agree(harness.envelope, doc, "event envelope");
    auto operation = sfmc::operation_from_name(string_member(doc, "operation"));
    if (operation && doc.IsObject()) {
      if (auto body = doc.FindMember("body"); body != doc.MemberEnd())
        check_validators_agree(*harness.bodies[static_cast<size_t>(*operation)], body->value,
                               sfmc::info(*operation).name);
    }
  }

  if (const auto* invalid = std::get_if<sfmc::InvalidEvent>(&decoded))
    check_invalid(harness, event, readable ? &doc : nullptr, *invalid);
  else
    check_send_request(harness, event, readable ? &doc : nullptr, std::get<sfmc::SendRequest>(decoded));
  return 0;
}
