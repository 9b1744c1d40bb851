// `sfmc-relay redrive`: dead letters back to their input topic (see
// pipeline/redrive.h), as an operator runs it on a terminal or in a script.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "config/config.h"

namespace sfmc {

// `args` are the words after "redrive" (--config FILE among them, already
// read into `config`). Returns the exit code (see kRedriveUsage).
int run_redrive(const std::vector<std::string>& args, const RelayConfig& config, const std::atomic<bool>& stop);

extern const char* const kRedriveUsage;

}  // namespace sfmc
