// Idempotent re-sends for Transactional Messaging: a recipient without a
// messageKey gets one derived from the event id and its position, so an
// event delivered twice (crash, rebalance, producer retry) carries the same
// keys and SFMC refuses the second send (109110) instead of sending twice.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>

namespace sfmc {

// 32 hex digits of a 128-bit FNV-1a hash of the id, "-", the index: stable
// across processes, versions and machines; at most 53 characters.
std::string derived_message_key(std::string_view event_id, size_t index);

// What every key derived for this event id starts with.
std::string derived_key_prefix(std::string_view event_id);

// Adds derived keys to the recipients in `body` that lack one; returns how
// many were added.
size_t add_derived_message_keys(rapidjson::Value& body, rapidjson::Document::AllocatorType& allocator,
                                std::string_view event_id);

}  // namespace sfmc
