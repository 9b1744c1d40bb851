// The example events of schemas/examples/ (broken/ included), compiled in for
// the demo by daemon/CMakeLists.txt.
#pragma once

#include <string_view>
#include <vector>

namespace sfmc::demo {

struct Example {
  std::string_view file;  // its path under schemas/examples/, e.g. "broken/not-json.json"
  std::string_view text;
};

extern const std::vector<Example> kExamples;  // sorted by file

}  // namespace sfmc::demo
