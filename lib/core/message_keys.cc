#include "core/message_keys.h"

#include <cstdint>
#include <set>

namespace sfmc {

namespace {

// FNV-1a, 64-bit, from a given basis: two bases give 128 bits.
uint64_t fnv1a(std::string_view text, uint64_t basis) {
  uint64_t hash = basis;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

void append_hex(std::string& out, uint64_t value) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) out += kHex[(value >> shift) & 0xF];
}

}  // namespace

std::string derived_key_prefix(std::string_view event_id) {
  std::string prefix;
  append_hex(prefix, fnv1a(event_id, 0xcbf29ce484222325ULL));
  append_hex(prefix, fnv1a(event_id, 0x84222325cbf29ce4ULL));
  prefix += '-';
  return prefix;
}

std::string derived_message_key(std::string_view event_id, size_t index) {
  return derived_key_prefix(event_id) + std::to_string(index);
}

size_t add_derived_message_keys(rapidjson::Value& body, rapidjson::Document::AllocatorType& allocator,
                                std::string_view event_id) {
  if (!body.IsObject()) return 0;
  auto recipients = body.FindMember("recipients");
  if (recipients == body.MemberEnd() || !recipients->value.IsArray()) return 0;
  size_t added = 0;
  auto& list = recipients->value;
  // A producer may have copied a derived key into another recipient: skip
  // to a suffixed key then, so keys stay unique and still deterministic.
  std::set<std::string> taken;
  for (const auto& r : list.GetArray())
    if (r.IsObject() && r.HasMember("messageKey") && r["messageKey"].IsString()) taken.insert(r["messageKey"].GetString());
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    if (!list[i].IsObject() || list[i].HasMember("messageKey")) continue;
    std::string key = derived_message_key(event_id, i);
    for (int n = 1; taken.count(key) != 0; ++n) key = derived_message_key(event_id, i) + "-" + std::to_string(n);
    taken.insert(key);
    list[i].AddMember("messageKey", rapidjson::Value(key.c_str(), static_cast<rapidjson::SizeType>(key.size()), allocator),
                      allocator);
    ++added;
  }
  return added;
}

}  // namespace sfmc
