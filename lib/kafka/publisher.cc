#include "kafka/publisher.h"

#include <memory>

#include "kafka/connection_error.h"

namespace sfmc::kafka {

Publisher::Publisher(Properties properties, LogHook log) : log_(std::move(log)) {
  // No duplicates or reordering from producer retries; acks=all follows.
  properties["enable.idempotence"] = "true";
  // librdkafka 2.0 sends one request per partition: at 5 ms (its default)
  // and 6,000 outcomes/s over 6 partitions (up to 1,200 requests a second)
  // its thread took a third of the daemon's CPU. 20 ms adds at most that
  // to an outcome, little next to an SFMC call.
  properties.try_emplace("linger.ms", "20");
  properties.try_emplace("compression.type", "lz4");
  Conf conf = make_conf(properties);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &Publisher::delivery_trampoline);
  rd_kafka_conf_set_log_cb(conf.get(), &Publisher::log_trampoline);
  handle_ = make_client(RD_KAFKA_PRODUCER, std::move(conf));
}

Publisher::~Publisher() {
  if (!handle_) return;
  int left = flush(std::chrono::seconds(10));
  if (left > 0 && log_) log_(3, "PRODUCE", std::to_string(left) + " outcome(s) unacknowledged at shutdown");
}

void Publisher::log_trampoline(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  auto* self = static_cast<Publisher*>(rd_kafka_opaque(rk));
  if (self->log_) self->log_(log_level(level, facility, message), facility, message);
}

namespace {

struct Delivery {
  InputCoordinates input;
  int64_t event_timestamp_ms;
};

}  // namespace

void Publisher::delivery_trampoline(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  std::unique_ptr<Delivery> delivery(static_cast<Delivery*>(message->_private));
  auto* self = static_cast<Publisher*>(opaque);
  if (delivery && self->delivered_)
    self->delivered_(delivery->input, delivery->event_timestamp_ms,
                     message->err ? rd_kafka_err2str(message->err) : std::string());
}

Publisher::Queued Publisher::publish(std::string& error, const std::string& topic,
                                     const std::optional<std::string>& key, const std::string& value,
                                     const std::vector<std::pair<std::string, std::string>>& headers,
                                     const InputCoordinates& input, int64_t event_timestamp_ms) {
  auto opaque = std::make_unique<Delivery>(Delivery{input, event_timestamp_ms});
  Headers record_headers(headers.empty() ? nullptr : rd_kafka_headers_new(headers.size()));
  for (const auto& [name, header_value] : headers)
    rd_kafka_header_add(record_headers.get(), name.data(), static_cast<ssize_t>(name.size()), header_value.data(),
                        static_cast<ssize_t>(header_value.size()));
  auto err = rd_kafka_producev(handle_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                               RD_KAFKA_V_KEY((key ? key->data() : nullptr), (key ? key->size() : 0)),
                               RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                               RD_KAFKA_V_HEADERS(record_headers.get()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_OPAQUE(opaque.get()), RD_KAFKA_V_END);
  if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) return Queued::QueueFull;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = rd_kafka_err2str(err);
    return Queued::Failed;
  }
  (void)opaque.release();          // the delivery report frees it
  (void)record_headers.release();  // producev took the headers
  return Queued::Ok;
}

void Publisher::poll(std::chrono::milliseconds timeout) { rd_kafka_poll(handle_.get(), static_cast<int>(timeout.count())); }

int Publisher::flush(std::chrono::milliseconds timeout) {
  rd_kafka_flush(handle_.get(), static_cast<int>(timeout.count()));
  return rd_kafka_outq_len(handle_.get());
}

void Publisher::wake_on(int fd) {
  Queue queue(rd_kafka_queue_get_main(handle_.get()));
  rd_kafka_queue_io_event_enable(queue.get(), fd, "p", 1);
}

int Publisher::queued() const { return rd_kafka_outq_len(handle_.get()); }

namespace {

bool fenced(rd_kafka_resp_err_t code) {
  return code == RD_KAFKA_RESP_ERR__FENCED || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
         code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH || code == RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
}

Publisher::TxnResult classify(rd_kafka_error_t* raw) {
  Error error(raw);
  if (!error) return {};
  std::string text = rd_kafka_error_string(error.get());
  if (rd_kafka_error_is_fatal(error.get()))
    return {fenced(rd_kafka_error_code(error.get())) ? Publisher::Txn::Fenced : Publisher::Txn::Fatal, text};
  if (rd_kafka_error_txn_requires_abort(error.get())) return {Publisher::Txn::Abort, text};
  if (rd_kafka_error_is_retriable(error.get())) return {Publisher::Txn::Retry, text};
  return {Publisher::Txn::Fatal, text};  // a state error: a bug, not the cluster
}

int ms(std::chrono::milliseconds timeout) { return static_cast<int>(timeout.count()); }

}  // namespace

Publisher::TxnResult Publisher::init_transactions(std::chrono::milliseconds timeout) {
  return classify(rd_kafka_init_transactions(handle_.get(), ms(timeout)));
}

Publisher::TxnResult Publisher::begin_transaction() { return classify(rd_kafka_begin_transaction(handle_.get())); }

Publisher::TxnResult Publisher::send_offsets(const rd_kafka_topic_partition_list_t* positions,
                                             const rd_kafka_consumer_group_metadata_t* group,
                                             std::chrono::milliseconds timeout) {
  return classify(rd_kafka_send_offsets_to_transaction(handle_.get(), positions, group, ms(timeout)));
}

Publisher::TxnResult Publisher::commit_transaction(std::chrono::milliseconds timeout) {
  return classify(rd_kafka_commit_transaction(handle_.get(), ms(timeout)));
}

Publisher::TxnResult Publisher::abort_transaction(std::chrono::milliseconds timeout) {
  return classify(rd_kafka_abort_transaction(handle_.get(), ms(timeout)));
}

std::optional<Publisher::TxnResult> Publisher::fatal_error() const {
  char reason[512] = "";
  auto code = rd_kafka_fatal_error(handle_.get(), reason, sizeof reason);
  if (code == RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  return TxnResult{fenced(code) ? Txn::Fenced : Txn::Fatal, reason};
}

}  // namespace sfmc::kafka
