// sfmc-sim's command line, parsed into SimOptions (kept out of main.cc so
// the tests can check it).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim_types.h"

namespace sfmc::sim {

struct CommandLine {
  SimOptions options;
  bool verbose = false;
  bool help = false;
};

extern const std::string_view kUsage;

// `args` without the program name. Accepts "--name value" and
// "--name=value"; fault flags apply in order, so "--faults" followed by
// "--fault-rate" adds to the document. Returns "" or the error.
std::string parse_command_line(const std::vector<std::string>& args, CommandLine& command_line);

}  // namespace sfmc::sim
