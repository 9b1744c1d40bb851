#include "sim_ens_feed.h"

#include <httplib.h>

#include <algorithm>

#include "sfmc/ens.h"
#include "sim_json.h"

namespace sfmc::sim {
namespace {

using Steady = std::chrono::steady_clock;

std::string event_json(const std::string& type, const std::string& message_key, const MessageRecord& record,
                       std::int64_t at_ms) {
  json::Writer out;
  out.begin_object()
      .str_field("eventCategoryType", "TransactionalSendEvents." + type)
      .int_field("timestampUTC", at_ms)
      .str_field("compositeId", record.composite_id)
      .str_field("mid", "0")
      .key("info")
      .begin_object()
      .str_field("messageKey", message_key)
      .str_field("to", record.to)
      .str_field("subscriberKey", record.contact_key)
      .end_object()
      .end_object();
  return out.text();
}

std::int64_t unix_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

EnsFeed::EnsFeed(const EnsFeedOptions& options)
    : options_(options), random_(options.seed != 0 ? options.seed : std::random_device{}()) {
  thread_ = std::thread([this] { run(); });
}

EnsFeed::~EnsFeed() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void EnsFeed::accepted(const std::vector<std::pair<std::string, MessageRecord>>& records) {
  const auto now = Steady::now();
  const auto wanted = [&](const char* type) {
    return options_.event_types.empty() ||
           std::find(options_.event_types.begin(), options_.event_types.end(),
                     std::string("TransactionalSendEvents.") + type) != options_.event_types.end();
  };
  std::lock_guard lock(mutex_);
  for (const auto& [key, record] : records) {
    const bool sms = record.channel == Channel::kSms;
    const std::int64_t at = unix_ms(record.accepted_at);
    if (wanted(sms ? "SmsSent" : "EmailSent"))
      now_.push_back({now, event_json(sms ? "SmsSent" : "EmailSent", key, record, at)});
    if (sms && wanted("SmsDelivered"))
      later_.push_back({now + options_.delivered_after,
                        event_json("SmsDelivered", key, record,
                                   at + std::chrono::duration_cast<std::chrono::milliseconds>(options_.delivered_after)
                                            .count())});
  }
  stats_.pending = now_.size() + later_.size();
}

EnsFeedStats EnsFeed::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

// One POST, as ENS makes it: signed, and 2xx within its 3 s or a failure.
bool EnsFeed::post(const std::string& body) {
  httplib::Client client(options_.callback_url.substr(0, options_.callback_url.find('/', 8)));
  const auto path_at = options_.callback_url.find('/', 8);
  const std::string path = path_at == std::string::npos ? "/" : options_.callback_url.substr(path_at);
  if (!options_.ca_file.empty()) client.set_ca_cert_path(options_.ca_file.c_str());
  client.set_connection_timeout(3, 0);
  client.set_read_timeout(3, 0);
  httplib::Headers headers{{"x-sfmc-ens-signature", EnsSignature::sign(options_.signature_key, body)}};
  auto answer = client.Post(path.c_str(), headers, body, "application/json");
  return answer && answer->status >= 200 && answer->status <= 204;
}

void EnsFeed::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait_for(lock, options_.flush_every, [this] { return stop_; });
    if (stop_) return;
    const auto now = Steady::now();
    std::vector<Batch> batches;
    auto take = [&](std::deque<Event>& queue) {
      while (!queue.empty() && queue.front().due <= now) {
        if (batches.empty() || batches.back().events >= options_.max_batch) batches.push_back({now, "[", 0, 0});
        Batch& batch = batches.back();
        if (batch.events > 0) batch.body += ',';
        batch.body += queue.front().json;
        ++batch.events;
        queue.pop_front();
      }
    };
    take(now_);
    take(later_);
    for (auto& batch : batches) batch.body += ']';
    while (!retry_.empty() && retry_.front().due <= now) {
      batches.push_back(std::move(retry_.front()));
      retry_.pop_front();
    }
    stats_.pending = now_.size() + later_.size();
    lock.unlock();
    std::vector<Batch> failed;
    for (auto& batch : batches) {
      bool delivered = false;
      for (int attempt = 0; attempt < 3 && !delivered; ++attempt) {
        delivered = post(batch.body);
        std::lock_guard count(mutex_);
        if (!delivered) ++stats_.failures;
      }
      bool repeat = false;
      if (delivered && options_.repeat_rate > 0) {
        repeat = std::uniform_real_distribution<double>(0, 1)(random_) < options_.repeat_rate;
        if (repeat) repeat = post(batch.body);
      }
      if (delivered && options_.on_acknowledged) options_.on_acknowledged(batch.body);
      std::lock_guard count(mutex_);
      if (delivered) {
        ++stats_.posts;
        stats_.events += batch.events;
        if (repeat) ++stats_.repeats;
      } else {
        // Deferred, and tried again at growing intervals (ENS: for days).
        batch.due = Steady::now() + std::min<std::chrono::milliseconds>(
                                        std::chrono::seconds(30), std::chrono::seconds(1) * (1 << std::min(batch.deferrals, 5)));
        ++batch.deferrals;
        failed.push_back(std::move(batch));
      }
    }
    lock.lock();
    for (auto& batch : failed) retry_.push_back(std::move(batch));
    std::sort(retry_.begin(), retry_.end(), [](const Batch& a, const Batch& b) { return a.due < b.due; });
  }
}

}  // namespace sfmc::sim
