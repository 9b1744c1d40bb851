// The SFMC rules a JSON Schema cannot state, each reported with the sentence
// SFMC itself uses (seeds 003/004) and a JSON pointer into the event.
// Rules that need SFMC's data (does the message or keyword exist?) are left
// to the API.
#pragma once

#include <rapidjson/document.h>

#include <vector>

#include "core/event.h"

namespace sfmc {

// `body` is the event's "body"; pointers are reported under "/body".
void check_body_rules(Operation operation, const rapidjson::Value& body, std::vector<ErrorDetail>& errors);

// Format checks, public for tests.
bool is_valid_send_time(std::string_view text);    // yyyy-MM-dd HH:mm, a real date
bool is_valid_utc_offset(std::string_view text);   // +HHMM / -HHMM
bool is_valid_window_time(std::string_view text);  // HHmm

}  // namespace sfmc
