#include "sim_stats.h"

#include "sim_json.h"

namespace sfmc::sim {

std::uint64_t StatsSnapshot::count(const std::string& route, int status) const {
  const auto by_route = requests.find(route);
  if (by_route == requests.end()) return 0;
  const auto by_status = by_route->second.find(status);
  return by_status == by_route->second.end() ? 0 : by_status->second;
}

std::uint64_t StatsSnapshot::fault_count(const std::string& name) const {
  const auto found = faults.find(name);
  return found == faults.end() ? 0 : found->second;
}

std::string stats_json(const StatsSnapshot& stats) {
  json::Writer out;
  out.begin_object().key("requests").begin_object();
  std::uint64_t total = 0;
  for (const auto& [route, statuses] : stats.requests) {
    out.key(route).begin_object();
    for (const auto& [status, count] : statuses) {
      out.key(status == 0 ? "none" : std::to_string(status)).uint(count);
      total += count;
    }
    out.end_object();
  }
  out.end_object().key("requests_total").uint(total).key("tokens_issued").uint(stats.tokens_issued);
  out.key("faults").begin_object();
  for (const auto& [name, count] : stats.faults) out.key(name).uint(count);
  out.end_object().key("message_keys").begin_object().key("remembered").uint(stats.message_keys);
  out.key("forgotten_early").uint(stats.message_keys_forgotten_early).end_object();
  out.key("status_records").begin_object().key("messages").uint(stats.message_records);
  out.key("deliveries").uint(stats.delivery_records).end_object();
  out.key("capacity").begin_object().int_field("calls", stats.capacity.calls);
  out.int_field("in_progress", stats.capacity.in_progress);
  out.int_field("peak_in_progress", stats.capacity.peak_in_progress);
  out.key("refused").uint(stats.capacity.refused).end_object();
  out.key("ens").begin_object().key("posts").uint(stats.ens.posts).key("events").uint(stats.ens.events);
  out.key("failures").uint(stats.ens.failures).key("repeats").uint(stats.ens.repeats);
  out.key("pending").uint(stats.ens.pending).end_object();
  return out.end_object().text();
}

SimStats::SimStats(std::vector<std::string> routes) { set_routes(std::move(routes)); }

void SimStats::set_routes(std::vector<std::string> routes) {
  routes_ = std::move(routes);
  const std::size_t slots = (routes_.size() + 1) * kStatusSlots;
  requests_ = std::make_unique<std::atomic<std::uint64_t>[]>(slots);
  for (std::size_t i = 0; i < slots; ++i) requests_[i].store(0, std::memory_order_relaxed);
}

void SimStats::count_request(std::size_t route, int status) {
  if (route > routes_.size()) route = routes_.size();
  if (status < 0 || status >= kStatusSlots) status = 0;
  requests_[route * kStatusSlots + static_cast<std::size_t>(status)].fetch_add(1, std::memory_order_relaxed);
}

void SimStats::count_fault(std::string_view name) {
  std::lock_guard lock(faults_mutex_);
  const auto found = faults_.find(name);
  if (found != faults_.end()) {
    ++found->second;
  } else {
    faults_.emplace(std::string(name), 1);
  }
}

void SimStats::reset() {
  for (std::size_t i = 0; i < (routes_.size() + 1) * kStatusSlots; ++i) {
    requests_[i].store(0, std::memory_order_relaxed);
  }
  tokens_issued_.store(0, std::memory_order_relaxed);
  std::lock_guard lock(faults_mutex_);
  faults_.clear();
}

StatsSnapshot SimStats::snapshot() const {
  StatsSnapshot snapshot;
  for (std::size_t route = 0; route <= routes_.size(); ++route) {
    for (int status = 0; status < kStatusSlots; ++status) {
      const auto slot = route * kStatusSlots + static_cast<std::size_t>(status);
      const auto count = requests_[slot].load(std::memory_order_relaxed);
      if (count == 0) continue;
      snapshot.requests[route < routes_.size() ? routes_[route] : "unmatched"][status] = count;
    }
  }
  snapshot.tokens_issued = tokens_issued_.load(std::memory_order_relaxed);
  std::lock_guard lock(faults_mutex_);
  snapshot.faults.insert(faults_.begin(), faults_.end());
  return snapshot;
}

}  // namespace sfmc::sim
