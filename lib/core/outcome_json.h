// The outcome record's wire format (version 1, schemas/outcome.schema.json).
#pragma once

#include <string>
#include <string_view>

#include "core/event.h"

namespace sfmc {

std::string_view to_string(OutcomeStatus status);
std::string to_json(const Outcome& outcome);

}  // namespace sfmc
