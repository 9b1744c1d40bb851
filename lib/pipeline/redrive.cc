#include "pipeline/redrive.h"

#include <rapidjson/document.h>

#include <charconv>

#include "core/dead_letter.h"

namespace sfmc {

namespace {

namespace dl = dead_letter;
using Txn = kafka::Publisher::Txn;
constexpr std::chrono::seconds kStep(30);  // one transaction step at most

std::optional<int64_t> number(const std::string* text) {
  int64_t value = 0;
  if (!text || text->empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size()) return std::nullopt;
  return value;
}

// "topic/partition/offset" -> topic (a topic name has no '/').
std::string topic_of(const std::string& coordinates) {
  auto last = coordinates.rfind('/');
  if (last == std::string::npos || last == 0) return {};
  auto before = coordinates.rfind('/', last - 1);
  return before == std::string::npos ? std::string() : coordinates.substr(0, before);
}

std::string shortened(const std::string& text, size_t most) {
  if (text.size() <= most) return text;
  size_t cut = most - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
  return text.substr(0, cut) + "...";
}

}  // namespace

std::optional<DeadLetter> read_dead_letter(const InboundEvent& record, std::string& why) {
  const std::string* status = record.header(dl::kStatus);
  const std::string* input = record.header(dl::kInput);
  if (!status || !input) {
    why = std::string("no ") + std::string(!status ? dl::kStatus : dl::kInput) + " header";
    return std::nullopt;
  }
  DeadLetter letter;
  letter.status = *status;
  letter.input_topic = topic_of(*input);
  if (letter.input_topic.empty()) {
    why = std::string(dl::kInput) + " is '" + *input + "', not topic/partition/offset";
    return std::nullopt;
  }
  if (const std::string* error = record.header(dl::kError)) letter.error = *error;
  letter.error_code = number(record.header(dl::kErrorCode));
  letter.http_status = number(record.header(dl::kHttpStatus));
  letter.time_ms = record.timestamp_ms;
  letter.account = "default";
  rapidjson::Document doc;
  doc.Parse(record.value.data(), record.value.size());
  if (!doc.HasParseError() && doc.IsObject()) {
    if (auto op = doc.FindMember("operation"); op != doc.MemberEnd() && op->value.IsString())
      letter.operation.assign(op->value.GetString(), op->value.GetStringLength());
    if (auto account = doc.FindMember("account");
        account != doc.MemberEnd() && account->value.IsString() && account->value.GetStringLength() > 0)
      letter.account.assign(account->value.GetString(), account->value.GetStringLength());
  }
  return letter;
}

bool RedriveFilter::matches(const DeadLetter& letter) const {
  auto in = [](const auto& set, const auto& value) { return set.empty() || set.count(value) != 0; };
  bool code = error_codes.empty() || (letter.error_code && error_codes.count(*letter.error_code)) ||
              (letter.http_status && error_codes.count(*letter.http_status));
  return in(statuses, letter.status) && code && in(operations, letter.operation) && in(accounts, letter.account) &&
         (!since_ms || letter.time_ms >= *since_ms) && (!until_ms || letter.time_ms < *until_ms);
}

std::vector<std::pair<std::string, std::string>> redriven_headers(const InboundEvent& record,
                                                                  const DeadLetter& letter) {
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(record.headers.size());
  for (const auto& h : record.headers)
    if (!dl::is_failure_header(h.first) && h.first != dl::kRedriveOf && h.first != dl::kRedriveStatus)
      headers.push_back(h);
  headers.emplace_back(dl::kRedriveOf, record.input.topic + "/" + std::to_string(record.input.partition) + "/" +
                                           std::to_string(record.input.offset));
  headers.emplace_back(dl::kRedriveStatus, letter.status);
  return headers;
}

Redrive::Redrive(kafka::TopicReader& reader, kafka::Publisher* publisher, RedriveOptions options, Say say)
    : reader_(reader), publisher_(publisher), options_(std::move(options)), say_(std::move(say)) {}

Redrive::Result Redrive::fail(Result result, std::string error) {
  error_ = std::move(error);
  if (transaction_open_ && publisher_) publisher_->abort_transaction(kStep);
  return result;
}

bool Redrive::target_exists(const std::string& topic) {
  if (known_topics_.count(topic)) return true;
  std::string error;
  if (!reader_.topic_exists(topic, error)) {
    error_ = error.empty() ? "topic '" + topic + "' does not exist" : error;
    return false;
  }
  known_topics_.insert(topic);
  return true;
}

Redrive::Result Redrive::run(const std::atomic<bool>& stop,
                             const std::function<void(const RedriveProgress&)>& progress) {
  auto step = [&](auto&& call) {
    kafka::Publisher::TxnResult result;
    do result = call();
    while (result.result == Txn::Retry && !stop);
    return result;
  };
  if (!options_.dry_run) {
    // First: fences an earlier redrive of this group (and aborts what it
    // left open) before its positions are read.
    auto init = step([&] { return publisher_->init_transactions(kStep); });
    if (init.result == Txn::Fenced) return fail(Result::Fenced, init.error);
    if (init.result != Txn::Ok) return fail(Result::KafkaFailure, "cannot start a Kafka transaction: " + init.error);
  }
  std::string error;
  if (!reader_.start(error)) return fail(Result::KafkaFailure, error);
  if (!options_.to_topic.empty() && !target_exists(options_.to_topic)) return fail(Result::KafkaFailure, error_);
  committed_ = reader_.positions();
  for (;;) {
    if (Result r = read_on(stop, progress); r != Result::Done) return r;
    progress_.remaining = reader_.remaining();
    if (options_.dry_run) return progress_.chosen == 0 && progress_.read > 0 ? Result::NothingChosen : Result::Done;
    // Nothing chosen: the group keeps its positions (a filter that matched
    // nothing, a typo say, passes over no record for good).
    if (progress_.chosen == 0) return progress_.read > 0 ? Result::NothingChosen : Result::Done;
    if (Result r = commit(); r != Result::Done) return r;
    if (!rewound_) return stop ? Result::Stopped : Result::Done;
  }
}

Redrive::Result Redrive::read_on(const std::atomic<bool>& stop,
                                 const std::function<void(const RedriveProgress&)>& progress) {
  auto last_progress = std::chrono::steady_clock::now();
  while (!stop) {
    if (options_.limit && progress_.chosen >= *options_.limit) break;
    auto now = std::chrono::steady_clock::now();
    if (now - last_progress >= std::chrono::milliseconds(500)) {
      progress_.remaining = reader_.remaining();
      progress(progress_);
      last_progress = now;
    }
    if (transaction_open_ && (in_transaction_ >= options_.transaction_records ||
                              now - transaction_began_ >= options_.transaction_interval)) {
      if (Result r = commit(); r != Result::Done) return r;
    }
    if (publisher_ && !options_.dry_run) publisher_->poll(std::chrono::milliseconds(0));
    auto record = reader_.next(std::chrono::milliseconds(100));
    if (!record) {
      if (reader_.finished()) break;
      continue;
    }
    ++progress_.read;
    ++read_in_transaction_;
    std::string why;
    auto letter = read_dead_letter(*record, why);
    if (!letter) {
      if (progress_.not_dead_letters++ == 0)
        say_(record->input.topic + "/" + std::to_string(record->input.partition) + "/" +
             std::to_string(record->input.offset) + " is not a dead letter of sfmc-relay (" + why +
             "); skipped, as is every other such record");
      continue;
    }
    if (!options_.filter.matches(*letter)) continue;
    ++progress_.chosen;
    std::string error_text =
        letter->error_code ? std::to_string(*letter->error_code) + " " + letter->error : letter->error;
    ++table_[{letter->status, shortened(error_text, 60), letter->operation}];
    if (options_.dry_run) continue;
    if (!publish(*record, *letter)) return fail(Result::KafkaFailure, error_);
  }
  return Result::Done;
}

bool Redrive::publish(const InboundEvent& record, const DeadLetter& letter) {
  const std::string& topic = options_.to_topic.empty() ? letter.input_topic : options_.to_topic;
  if (!target_exists(topic)) return false;
  if (!transaction_open_) {
    auto begun = publisher_->begin_transaction();
    if (begun.result != Txn::Ok) {
      error_ = "cannot begin a Kafka transaction: " + begun.error;
      return false;
    }
    transaction_open_ = true;
    transaction_began_ = std::chrono::steady_clock::now();
  }
  auto headers = redriven_headers(record, letter);
  for (;;) {
    std::string error;
    switch (publisher_->publish(error, topic, record.key, record.value, headers, record.input, record.timestamp_ms)) {
      case kafka::Publisher::Queued::Ok: ++in_transaction_; return true;
      case kafka::Publisher::Queued::QueueFull: publisher_->poll(std::chrono::milliseconds(10)); break;
      case kafka::Publisher::Queued::Failed: error_ = "cannot publish to '" + topic + "': " + error; return false;
    }
  }
}

// Ends the open transaction (beginning one when only positions moved) with
// the reader's positions; an aborted one is read and published again.
Redrive::Result Redrive::commit() {
  if (!transaction_open_) {
    auto begun = publisher_->begin_transaction();
    if (begun.result != Txn::Ok) return fail(Result::KafkaFailure, "cannot begin a Kafka transaction: " + begun.error);
    transaction_open_ = true;
  }
  auto positions = reader_.positions();
  auto group = reader_.group_metadata();
  kafka::Publisher::TxnResult result;
  do result = publisher_->send_offsets(positions.get(), group.get(), kStep);
  while (result.result == Txn::Retry);
  if (result.result == Txn::Ok) {
    do result = publisher_->commit_transaction(kStep);
    while (result.result == Txn::Retry);
  }
  if (result.result == Txn::Ok) {
    transaction_open_ = false;
    progress_.published += in_transaction_;
    in_transaction_ = 0;
    read_in_transaction_ = 0;
    aborts_ = 0;
    rewound_ = false;
    committed_ = std::move(positions);
    return Result::Done;
  }
  if (result.result == Txn::Fenced) return fail(Result::Fenced, result.error);
  if (result.result == Txn::Fatal || ++aborts_ > 3)
    return fail(Result::KafkaFailure, "Kafka transaction failed: " + result.error);
  say_("Kafka transaction aborted (" + result.error + "); its records are read and published again");
  publisher_->abort_transaction(kStep);
  transaction_open_ = false;
  progress_.chosen -= in_transaction_;
  progress_.read -= read_in_transaction_;
  in_transaction_ = 0;
  read_in_transaction_ = 0;
  std::string error;
  if (!reader_.rewind(committed_.get(), error)) return fail(Result::KafkaFailure, "cannot read again: " + error);
  rewound_ = true;
  return Result::Done;  // reading goes on from the committed positions
}

}  // namespace sfmc
