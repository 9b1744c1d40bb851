// Consumer lag from librdkafka's statistics JSON into the lag gauges.
#pragma once

#include "telemetry/metrics.h"

namespace sfmc {

// Sets sfmc_relay_consumer_lag for every partition the statistics report a
// lag for (partitions not assigned here report -1 and are skipped).
void record_consumer_lag(const char* statistics_json, Metrics& metrics);

}  // namespace sfmc
