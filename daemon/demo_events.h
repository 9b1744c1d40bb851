// The example events of schemas/examples/, compiled in for the demo.
#pragma once

#include <array>
#include <string_view>

namespace sfmc::demo {

extern const std::string_view kSmsBatch, kSmsOne, kEmailBatch, kMessageContactNumbers, kMessageContactSubscribers,
    kMessageList;

inline const std::array<std::string_view, 6> kExamples{kSmsBatch, kSmsOne, kEmailBatch, kMessageContactNumbers,
                                                       kMessageContactSubscribers, kMessageList};

}  // namespace sfmc::demo
