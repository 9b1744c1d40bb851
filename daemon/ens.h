// `sfmc-relay ens`: the ENS set-up an operator does once per business unit
// (README, "Delivery status by push: ENS"), with the account's credentials
// from the configuration file.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace sfmc {

// `args` are the words after "ens" (--config FILE among them, already read
// into `config`). Returns the exit code: 0 done, 1 SFMC refused or could
// not be reached, 2 usage.
int run_ens(const std::vector<std::string>& args, const RelayConfig& config);

extern const char* const kEnsUsage;

}  // namespace sfmc
