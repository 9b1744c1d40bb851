#include "sfmc/ens.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rapidjson/document.h>

#include <array>
#include <cctype>
#include <stdexcept>

#include "core/civil_time.h"
#include "sfmc/json_text.h"

namespace sfmc {
namespace {

// Standard base64 (with padding, as SFMC writes keys and signatures);
// nullopt when `text` is not that.
std::optional<std::string> base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string bytes(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t padding = 0;
  while (padding < 2 && text[text.size() - 1 - padding] == '=') ++padding;
  bytes.resize(static_cast<size_t>(n) - padding);
  return bytes;
}

std::string base64_encode(const unsigned char* bytes, size_t size) {
  std::string text((size + 2) / 3 * 4, '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()), bytes, static_cast<int>(size));
  return text;
}

using Mac = std::array<unsigned char, 32>;

Mac hmac_sha256(std::string_view key, std::string_view body) {
  Mac mac{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(body.data()),
       body.size(), mac.data(), &size);
  return mac;
}

// "sms" or "email", from the part of the event type after its family.
std::string channel_of(std::string_view type) {
  if (const auto dot = type.rfind('.'); dot != std::string_view::npos) type.remove_prefix(dot + 1);
  auto starts = [&](std::string_view prefix) {
    if (type.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(type[i])) != prefix[i]) return false;
    return true;
  };
  return starts("sms") ? "sms" : starts("email") ? "email" : "";
}

}  // namespace

EnsSignature::EnsSignature(const std::vector<std::string>& base64_keys) {
  for (size_t i = 0; i < base64_keys.size(); ++i) {
    auto key = base64_decode(base64_keys[i]);
    if (!key || key->empty())
      throw std::invalid_argument("signature key " + std::to_string(i + 1) + " is not base64 (as SFMC shows it)");
    keys_.push_back(std::move(*key));
  }
}

bool EnsSignature::verify(std::string_view body, std::string_view signature) const {
  const auto given = base64_decode(signature);
  if (!given || given->size() != Mac().size()) return false;
  bool match = false;
  for (const auto& key : keys_) {
    const Mac mac = hmac_sha256(key, body);
    match |= CRYPTO_memcmp(mac.data(), given->data(), mac.size()) == 0;
  }
  return match;
}

std::string EnsSignature::sign(std::string_view base64_key, std::string_view body) {
  const auto key = base64_decode(base64_key);
  if (!key) throw std::invalid_argument("the signature key is not base64");
  const Mac mac = hmac_sha256(*key, body);
  return base64_encode(mac.data(), mac.size());
}

EnsBatch read_ens_batch(std::string_view body) {
  EnsBatch batch;
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError()) {
    batch.error = "the body is not JSON";
    return batch;
  }
  if (!doc.IsArray()) {
    batch.error = "the body is not a JSON array of events";
    return batch;
  }
  batch.events.reserve(doc.Size());
  for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
    const auto& e = doc[i];
    if (!e.IsObject()) {
      batch.error = "event " + std::to_string(i) + " is not a JSON object";
      batch.events.clear();
      return batch;
    }
    EnsEvent event;
    event.event_type = text_of(e, "eventCategoryType");
    event.channel = channel_of(event.event_type);
    const auto info = e.FindMember("info");
    if (info != e.MemberEnd() && info->value.IsObject()) {
      const auto& in = info->value;
      event.message_key = text_of(in, "messageKey");
      event.to = text_of(in, "to");
      event.contact_key = text_of(in, "subscriberKey");
      if (event.contact_key.empty()) event.contact_key = text_of(in, "contactKey");
      event.status_code = text_of(in, "statusCode");
      event.status_message = text_of(in, "statusMessage");
      if (event.status_message.empty()) event.status_message = text_of(in, "reason");
    }
    if (!event.event_type.starts_with("TransactionalSendEvents.") || event.channel.empty() ||
        event.message_key.empty()) {
      ++batch.skipped;
      continue;
    }
    event.state = state_for_event_type(event.event_type);
    event.definition_key = text_of(e, "definitionKey");
    event.composite_id = text_of(e, "compositeId");
    event.mid = text_of(e, "mid");
    const auto ts = e.FindMember("timestampUTC");
    if (ts != e.MemberEnd() && ts->value.IsInt64()) event.timestamp_ms = ts->value.GetInt64();
    batch.events.push_back(std::move(event));
  }
  return batch;
}

DeliveryRecord delivery_record(const EnsEvent& event, int64_t received_ms) {
  DeliveryRecord r;
  r.source = DeliverySource::Ens;
  r.message_key = event.message_key;
  r.channel = event.channel;
  r.state = event.state;
  r.final = is_terminal(event.state);
  r.event_category_type = event.event_type;
  r.status_code = event.status_code;
  r.status_message = event.status_message;
  r.mid = event.mid;
  r.definition_key = event.definition_key;
  r.composite_id = event.composite_id;
  if (event.timestamp_ms > 0 && event.timestamp_ms < kYear10000Ms) r.sfmc_time = rfc3339_ms(event.timestamp_ms);
  r.checked_ms = received_ms;
  return r;
}

std::optional<EnsVerification> read_ens_verification(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  EnsVerification v{text_of(doc, "callbackId"), text_of(doc, "verificationKey")};
  if (v.callback_id.empty() || v.verification_key.empty()) return std::nullopt;
  return v;
}

}  // namespace sfmc
