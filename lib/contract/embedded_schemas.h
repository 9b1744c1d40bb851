// The JSON Schemas of schemas/, compiled into the binary.
#pragma once

#include <string_view>

namespace sfmc::schemas {

extern const std::string_view kEvent;
extern const std::string_view kOutcome;
extern const std::string_view kConfig;

}  // namespace sfmc::schemas
