// The JSON Schemas of schemas/, compiled into the binary.
#pragma once

#include <optional>
#include <string_view>

#include "core/event.h"

namespace sfmc::schemas {

extern const std::string_view kEvent;
extern const std::string_view kOutcome;
extern const std::string_view kConfig;

// The schema of an operation's body (schemas/operations/).
std::string_view body(Operation operation);

// By name: "event", "outcome", "config", or an operation name.
std::optional<std::string_view> by_name(std::string_view name);

}  // namespace sfmc::schemas
