// Times as SFMC and the relay's records write them ("2026-11-30T17:04:05.123"),
// by calendar arithmetic alone: the machine's time zone never enters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sfmc {

// "YYYY-MM-DDTHH:MM:SS", then optionally "." and 1 to `max_fraction`
// digits, then exactly `zone` (e.g. "Z", or "" for none), read as UTC: Unix
// ms, the fraction truncated to ms. nullopt when the text is not such a
// time or names no real date.
std::optional<int64_t> parse_civil_ms(std::string_view text, std::string_view zone, size_t max_fraction);

// Unix ms as RFC 3339 UTC with milliseconds: "2026-11-30T17:04:05.123Z".
// Years outside 0000-9999 are written as 0000-01-01T00:00:00.000Z.
std::string rfc3339_ms(int64_t unix_ms);

// Now, as Unix ms (UTC): times that outlive the process and the host.
int64_t unix_ms_now();

// 10000-01-01T00:00:00Z: the first instant rfc3339_ms cannot write.
constexpr int64_t kYear10000Ms = 253402300800000;

}  // namespace sfmc
