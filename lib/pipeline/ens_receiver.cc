#include "pipeline/ens_receiver.h"

namespace sfmc {
namespace {

// What identifies an event across ENS's repeats (the README tells
// consumers the same): its messageKey, type and time.
std::string event_id(const EnsEvent& e) {
  return e.message_key + '\n' + e.event_type + '\n' + std::to_string(e.timestamp_ms);
}

EnsAnswer refused(int status, std::string word, std::string problem) {
  EnsAnswer answer;
  answer.status = status;
  answer.body = R"({"error":")" + word + "\"}";
  answer.problem = std::move(problem);
  return answer;
}

}  // namespace

EnsReceiver::EnsReceiver(EnsReceiverOptions options, EnsSink& sink, Clock& clock, std::function<int64_t()> unix_ms)
    : options_(std::move(options)),
      signature_(options_.signature_keys),
      sink_(sink),
      clock_(clock),
      unix_ms_(std::move(unix_ms)) {}

EnsAnswer EnsReceiver::handle(std::string_view signature, std::string_view body) {
  const auto deadline = clock_.now() + options_.answer_within;
  // ENS posts the verification pair while the callback is being created,
  // before anyone holds its signature key; it produces nothing.
  if (auto verification = read_ens_verification(body)) {
    EnsAnswer answer;
    answer.body = R"({"verified":"pending"})";
    answer.verification = true;
    answer.callback_id = std::move(verification->callback_id);
    answer.verification_key = std::move(verification->verification_key);
    return answer;
  }
  if (!signature_.verify(body, signature))
    return refused(401, "signature",
                   options_.signature_keys.empty() ? "no signature key is configured (ens.signature_keys)"
                   : signature.empty()             ? "no x-sfmc-ens-signature header"
                                                   : "x-sfmc-ens-signature does not sign the body with any key");
  EnsBatch batch = read_ens_batch(body);
  if (!batch.error.empty()) return refused(400, "body", "a signed POST that is not a batch of events: " + batch.error);

  EnsAnswer answer;
  answer.skipped = batch.skipped;
  std::vector<EnsSink::Record> records;
  std::vector<std::string> ids;
  std::unordered_set<std::string> in_batch;
  const int64_t received = unix_ms_();
  for (const auto& event : batch.events) {
    answer.event_types.push_back(event.event_type);
    std::string id = event_id(event);
    if (seen(id) || !in_batch.insert(id).second) {
      ++answer.repeats;
      continue;
    }
    records.emplace_back(event.message_key, to_json(delivery_record(event, received)));
    ids.push_back(std::move(id));
  }
  if (!records.empty() && !sink_.produce_all(records, deadline))
    return refused(503, "unavailable",
                   "Kafka did not acknowledge the batch's " + std::to_string(records.size()) +
                       " records in time: ENS will send it again");
  // Only what Kafka holds is remembered: a batch answered 503 comes again
  // and must not be taken for a repeat.
  remember(ids);
  answer.produced = records.size();
  answer.body = R"({"received":)" + std::to_string(batch.events.size() + batch.skipped) + "}";
  return answer;
}

bool EnsReceiver::seen(const std::string& id) {
  std::lock_guard lock(mutex_);
  return seen_.contains(id);
}

void EnsReceiver::remember(const std::vector<std::string>& ids) {
  if (options_.remembered_events == 0) return;
  std::lock_guard lock(mutex_);
  for (const auto& id : ids) {
    if (!seen_.insert(id).second) continue;
    seen_order_.push_back(id);
    if (seen_order_.size() > options_.remembered_events) {
      seen_.erase(seen_order_.front());
      seen_order_.pop_front();
    }
  }
}

}  // namespace sfmc
