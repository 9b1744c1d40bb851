// `sfmc-relay validate`: the relay's event checks, offline, for producers
// and their CI.
#pragma once

#include <string>
#include <vector>

namespace sfmc {

// `args` are the words after "validate". Returns the exit code: 0 all
// valid, 1 some invalid (or unreadable), 2 usage error.
int run_validate(const std::vector<std::string>& args);

}  // namespace sfmc
