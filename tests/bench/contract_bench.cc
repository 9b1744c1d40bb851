// contract_bench: what decoding and validating one event costs on one thread.
//
// For each kind of typical 1-2 KB event it times EventDecoder::decode (size
// and depth checks, parse, envelope and body schemas, SFMC rules) and, apart,
// the RapidJSON parse alone, so the validation overhead is the difference.
// Prints a table and one JSON line (prefixed "summary: ") for scripts.
//
// Usage: contract_bench [--seconds S] [--iterations N]
//   --seconds S     time each measurement for about S seconds (default 3)
//   --iterations N  run exactly N decodes per measurement instead
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "contract/event_decoder.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Kind {
  std::string name;
  bool valid;                       // every event must decode to a SendRequest (else: to an InvalidEvent)
  std::vector<std::string> events;  // decoded round-robin
};

// ---- The events -------------------------------------------------------------

std::string sms_batch() {
  return R"({
  "operation": "transactional.sms.send",
  "id": "orders-2024-03-14-000017",
  "account": "default",
  "body": {
    "definitionKey": "order-shipped-sms",
    "recipients": [
      {"contactKey": "C-100231", "to": "15555551234", "messageKey": "order-4711-sms-1",
       "attributes": {"FirstName": "Astro", "OrderNumber": "4711", "Carrier": "UPS", "TrackingCode": "1Z999AA10123456784", "Eta": "2024-03-16"}},
      {"contactKey": "C-100232", "to": "15555552345", "messageKey": "order-4712-sms-1",
       "attributes": {"FirstName": "Codey", "OrderNumber": "4712", "Carrier": "FedEx", "TrackingCode": "449044304137821", "Eta": "2024-03-17"}},
      {"contactKey": "C-100233", "to": "15555553456", "messageKey": "order-4713-sms-1",
       "attributes": {"FirstName": "Einstein", "OrderNumber": "4713", "Carrier": "DHL", "TrackingCode": "JD014600006281234567", "Eta": "2024-03-15"}},
      {"contactKey": "C-100234", "to": "15555554567", "messageKey": "order-4714-sms-1",
       "attributes": {"FirstName": "Appy", "OrderNumber": "4714", "Carrier": "USPS", "TrackingCode": "9400111899223197428490", "Eta": "2024-03-18"}}
    ],
    "subscriptions": {"resubscribe": true},
    "content": {"message": "Hi %%FirstName%%, order %%OrderNumber%% is on its way with %%Carrier%% (%%TrackingCode%%), arriving %%Eta%%."},
    "attributes": {"Campaign": "spring-shipping", "Locale": "en-US"}
  }
})";
}

std::string sms_one() {
  return R"({
  "operation": "transactional.sms.sendOne",
  "id": "password-reset-88213",
  "messageKey": "f4fe74b7-c3c0-4e5a-9f49-b63a641109a2",
  "body": {
    "definitionKey": "account-reset",
    "recipient": {
      "to": "15555551234",
      "contactKey": "C-100231",
      "attributes": {"FirstName": "Astro", "ResetCode": "739204", "ValidMinutes": "15", "Device": "iPhone 15", "Location": "Indianapolis, IN"}
    },
    "subscriptions": {"resubscribe": true},
    "content": {"message": "%%FirstName%%, your reset code is %%ResetCode%%. It expires in %%ValidMinutes%% minutes. Requested from %%Device%% near %%Location%%. If this was not you, contact support."}
  }
})";
}

std::string email_batch() {
  return R"({
  "operation": "transactional.email.send",
  "id": "newsletter-welcome-000981",
  "body": {
    "definitionKey": "welcome-email",
    "recipients": [
      {"contactKey": "astro@localhost", "to": "astro@localhost", "messageKey": "welcome-astro-1",
       "attributes": {"FirstName": "Astro", "LastName": "Nomical", "Plan": "Premium", "SignupDate": "2024-03-01"}},
      {"contactKey": "codey@localhost", "to": "codey@localhost", "messageKey": "welcome-codey-1",
       "attributes": {"FirstName": "Codey", "LastName": "Bear", "Plan": "Free", "SignupDate": "2024-03-02"}},
      {"contactKey": "einstein@localhost", "to": "einstein@localhost", "messageKey": "welcome-einstein-1",
       "attributes": {"FirstName": "Einstein", "LastName": "Ray", "Plan": "Team", "SignupDate": "2024-03-03"}},
      {"contactKey": "appy@localhost", "to": "appy@localhost", "messageKey": "welcome-appy-1",
       "attributes": {"FirstName": "Appy", "LastName": "Camper", "Plan": "Free", "SignupDate": "2024-03-04"}},
      {"contactKey": "cloudy@localhost", "to": "cloudy@localhost", "messageKey": "welcome-cloudy-1",
       "attributes": {"FirstName": "Cloudy", "LastName": "Goat", "Plan": "Premium", "SignupDate": "2024-03-05"}}
    ],
    "attributes": {"Campaign": "spring-welcome", "Locale": "en-US", "UnsubscribeCenter": "/preferences"}
  }
})";
}

std::string message_contact_subscribers() {
  return R"({
  "operation": "mobileconnect.messageContact.send",
  "id": "appointment-reminders-5521",
  "messageId": "MzA6Nzg6MA",
  "body": {
    "Subscribers": [
      {"MobileNumber": "15555554410", "SubscriberKey": "ExampleSubKey1", "Attributes": {"FirstName": "Michael", "Time": "09:30", "Clinic": "North"}},
      {"MobileNumber": "15555552254", "SubscriberKey": "ExampleSubKey2", "Attributes": {"FirstName": "Kristen", "Time": "10:15", "Clinic": "North"}},
      {"MobileNumber": "15555553311", "SubscriberKey": "ExampleSubKey3", "Attributes": {"FirstName": "Priya", "Time": "11:00", "Clinic": "East"}},
      {"MobileNumber": "15555557788", "SubscriberKey": "ExampleSubKey4", "Attributes": {"FirstName": "Tomasz", "Time": "14:45", "Clinic": "West"}},
      {"MobileNumber": "15555559090", "SubscriberKey": "ExampleSubKey5", "Attributes": {"FirstName": "Amara", "Time": "16:30", "Clinic": "South"}}
    ],
    "Subscribe": "true",
    "Resubscribe": "true",
    "keyword": "JOINSMS",
    "Override": "false",
    "blackoutWindow": {"UtcOffset": "-0500", "WindowStart": "2200", "WindowEnd": "0700"},
    "SendTime": "2024-03-15 13:00"
  }
})";
}

std::string message_list() {
  return R"({
  "operation": "mobileconnect.messageList.send",
  "id": "flash-sale-list-send-77",
  "messageId": "MTA6Nzg6MA",
  "body": {
    "TargetListIds": ["1234", "5678", "9101", "1121"],
    "OverrideTemplateTargetLists": "true",
    "ExclusionListIds": ["9012", "3456"],
    "OverrideTemplateExclusionLists": "true",
    "OverrideMessageText": "true",
    "MessageText": "Flash sale: 20% off everything until midnight. Show this text in store or use code FLASH20 online. Reply STOP to opt out.",
    "blackoutWindow": {"UtcOffset": "-0500", "WindowStart": "2200", "WindowEnd": "0700"},
    "sendTime": "2024-03-15 17:01",
    "allowDuplication": false
  }
})";
}

// Wrong events as producers get them wrong: each fails a different stage.
std::vector<std::string> invalid_mix() {
  std::string batch = sms_batch();
  std::string truncated = batch.substr(0, batch.size() / 2);
  std::string wrong_types = batch;
  wrong_types.replace(wrong_types.find(R"("to": "15555552345")"), 19, R"("to": 15555552345)");
  std::string duplicate_keys = batch;
  duplicate_keys.replace(duplicate_keys.find("order-4712-sms-1"), 16, "order-4711-sms-1");
  std::string unknown_field = email_batch();
  unknown_field.replace(unknown_field.find(R"("attributes": {"Campaign")"), 13, R"("atributes":)");
  std::string contact_rules = message_contact_subscribers();
  contact_rules.replace(contact_rules.find(R"("keyword": "JOINSMS",)"), 21, "");
  contact_rules.replace(contact_rules.find("2024-03-15 13:00"), 16, "2024-02-30 13:00");
  std::string unknown_operation = sms_one();
  unknown_operation.replace(unknown_operation.find("transactional.sms.sendOne"), 25, "transactional.sms.sendone");
  return {truncated, wrong_types, duplicate_keys, unknown_field, contact_rules, unknown_operation};
}

std::vector<Kind> kinds() {
  std::vector<Kind> all;
  all.push_back({"sms-batch-4", true, {sms_batch()}});
  all.push_back({"sms-one", true, {sms_one()}});
  all.push_back({"email-batch-5", true, {email_batch()}});
  all.push_back({"contact-subscribers-5", true, {message_contact_subscribers()}});
  all.push_back({"message-list", true, {message_list()}});
  all.push_back({"invalid-mix-6", false, invalid_mix()});
  return all;
}

// ---- Measuring --------------------------------------------------------------

struct Options {
  double seconds = 3.0;
  long iterations = 0;  // 0: run for `seconds`
};

struct Timing {
  long count = 0;
  double seconds = 0;
  double per_second() const { return count / seconds; }
  double micros() const { return seconds * 1e6 / count; }
};

// Runs `step(i)` until the budget is spent; the clock is read every 64 steps
// so reading it costs nothing measurable.
template <typename Step>
Timing measure(const Options& options, Step step) {
  for (int i = 0; i < 200; ++i) step(i);  // warm caches and allocator pools
  Timing t;
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration<double>(options.seconds);
  for (;;) {
    long chunk = options.iterations ? std::min(64L, options.iterations - t.count) : 64;
    for (long i = 0; i < chunk; ++i) step(t.count++);
    if (options.iterations ? t.count >= options.iterations : Clock::now() >= deadline) break;
  }
  t.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return t;
}

// Makes the optimiser assume `value` is read, so the work producing it stays.
template <typename T>
void keep(const T& value) {
  asm volatile("" : : "r,m"(value) : "memory");
}

sfmc::InboundEvent record(std::string value) {
  sfmc::InboundEvent event;
  event.input = {"sfmc.send-requests", 0, 0};
  event.value = std::move(value);
  return event;
}

// Refuses to time a kind whose events do not decode the way it claims.
bool check_kind(sfmc::EventDecoder& decoder, const Kind& kind) {
  for (const auto& value : kind.events) {
    sfmc::Decoded decoded = decoder.decode(record(value));
    if (std::holds_alternative<sfmc::SendRequest>(decoded) == kind.valid) continue;
    std::fprintf(stderr, "contract_bench: a %s event decodes the wrong way:\n", kind.name.c_str());
    if (auto* invalid = std::get_if<sfmc::InvalidEvent>(&decoded))
      for (const auto& e : invalid->errors) std::fprintf(stderr, "  %s: %s\n", e.pointer.c_str(), e.message.c_str());
    return false;
  }
  return true;
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--seconds") == 0 && has_value) {
      options.seconds = std::atof(argv[++i]);
    } else if (std::strcmp(argv[i], "--iterations") == 0 && has_value) {
      options.iterations = std::atol(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: contract_bench [--seconds S] [--iterations N]\n");
      std::exit(2);
    }
  }
  if (options.seconds <= 0 && options.iterations <= 0) {
    std::fprintf(stderr, "contract_bench: --seconds or --iterations must be positive\n");
    std::exit(2);
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  sfmc::EventDecoder decoder;
  std::vector<Kind> all = kinds();
  for (const auto& kind : all)
    if (!check_kind(decoder, kind)) return 1;

  rapidjson::StringBuffer summary;
  rapidjson::Writer<rapidjson::StringBuffer> json(summary);
  json.StartObject();
  json.Key("threads");
  json.Int(1);
  json.Key("kinds");
  json.StartArray();

  std::printf("%-22s %6s %12s %10s %12s %10s %12s\n", "kind", "bytes", "decode/s", "us/decode", "parse/s", "us/parse",
              "us validate");
  for (const auto& kind : all) {
    std::vector<sfmc::InboundEvent> records;
    size_t bytes = 0;
    for (const auto& value : kind.events) {
      records.push_back(record(value));
      bytes += value.size();
    }
    bytes /= records.size();

    Timing decode = measure(options, [&](long i) {
      sfmc::Decoded decoded = decoder.decode(records[i % records.size()]);
      keep(decoded);
    });
    Timing parse = measure(options, [&](long i) {
      const std::string& value = records[i % records.size()].value;
      rapidjson::Document doc;
      doc.Parse<rapidjson::kParseValidateEncodingFlag>(value.data(), value.size());
      keep(doc);
    });
    double validate_micros = decode.micros() - parse.micros();
    std::printf("%-22s %6zu %12.0f %10.2f %12.0f %10.2f %12.2f\n", kind.name.c_str(), bytes, decode.per_second(),
                decode.micros(), parse.per_second(), parse.micros(), validate_micros);

    json.StartObject();
    json.Key("kind");
    json.String(kind.name.c_str());
    json.Key("bytes");
    json.Uint64(bytes);
    json.Key("decodes");
    json.Int64(decode.count);
    json.Key("decodePerSecond");
    json.Double(decode.per_second());
    json.Key("decodeMicros");
    json.Double(decode.micros());
    json.Key("parsePerSecond");
    json.Double(parse.per_second());
    json.Key("parseMicros");
    json.Double(parse.micros());
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  std::printf("summary: %s\n", summary.GetString());
  return 0;
}
