#include "kstrand/message.h"

#include <librdkafka/rdkafka.h>

namespace kstrand {

struct Message::Owned {
  std::string topic;
  Partition partition;
  Offset offset;
  std::optional<std::string> key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::system_clock::time_point timestamp;
};

namespace {
const rd_kafka_message_t* Native(void* p) { return static_cast<const rd_kafka_message_t*>(p); }
}  // namespace

Message Message::Make(std::string topic, Partition partition, Offset offset, std::optional<std::string> key,
                      std::string value, std::vector<std::pair<std::string, std::string>> headers) {
  Message m;
  m.owned_ = new Owned{std::move(topic), partition, offset, std::move(key), std::move(value), std::move(headers),
                       std::chrono::system_clock::now()};
  return m;
}

Message::~Message() {
  if (native_) rd_kafka_message_destroy(static_cast<rd_kafka_message_t*>(native_));
  delete owned_;
  delete produced_;
}

Message::Message(Message&& other) noexcept
    : native_(std::exchange(other.native_, nullptr)),
      owned_(std::exchange(other.owned_, nullptr)),
      produced_(std::exchange(other.produced_, nullptr)),
      context_(std::exchange(other.context_, nullptr)) {}

Message& Message::operator=(Message&& other) noexcept {
  if (this != &other) {
    Message dying(std::move(*this));
    native_ = std::exchange(other.native_, nullptr);
    owned_ = std::exchange(other.owned_, nullptr);
    produced_ = std::exchange(other.produced_, nullptr);
    context_ = std::exchange(other.context_, nullptr);
  }
  return *this;
}

void Message::Produce(OutputRecord record) const {
  if (!produced_) produced_ = new std::vector<OutputRecord>();
  produced_->push_back(std::move(record));
}

std::vector<OutputRecord> Message::TakeProduced() {
  if (!produced_) return {};
  std::vector<OutputRecord> out = std::move(*produced_);
  delete std::exchange(produced_, nullptr);
  return out;
}

std::string_view Message::topic() const {
  return owned_ ? std::string_view(owned_->topic) : rd_kafka_topic_name(Native(native_)->rkt);
}

Partition Message::partition() const {
  return owned_ ? owned_->partition : Partition(Native(native_)->partition);
}

Offset Message::offset() const { return owned_ ? owned_->offset : Offset(Native(native_)->offset); }

std::optional<std::string_view> Message::key() const {
  if (owned_) return owned_->key ? std::optional<std::string_view>(*owned_->key) : std::nullopt;
  const auto* m = Native(native_);
  if (!m->key) return std::nullopt;
  return std::string_view(static_cast<const char*>(m->key), m->key_len);
}

std::string_view Message::value() const {
  if (owned_) return owned_->value;
  const auto* m = Native(native_);
  return m->payload ? std::string_view(static_cast<const char*>(m->payload), m->len) : std::string_view();
}

bool Message::value_is_null() const { return owned_ ? false : Native(native_)->payload == nullptr; }

std::chrono::system_clock::time_point Message::timestamp() const {
  if (owned_) return owned_->timestamp;
  int64_t ms = rd_kafka_message_timestamp(Native(native_), nullptr);
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms < 0 ? 0 : ms));
}

std::vector<std::pair<std::string_view, std::string_view>> Message::headers() const {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  if (owned_) {
    for (const auto& [k, v] : owned_->headers) out.emplace_back(k, v);
    return out;
  }
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(Native(native_), &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  const char* name;
  const void* value;
  size_t size;
  for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
    out.emplace_back(name, value ? std::string_view(static_cast<const char*>(value), size) : std::string_view());
  }
  return out;
}

std::optional<std::string_view> Message::header(std::string_view name) const {
  for (const auto& [k, v] : headers()) {
    if (k == name) return v;
  }
  return std::nullopt;
}

size_t Message::size() const {
  if (owned_) return owned_->value.size() + (owned_->key ? owned_->key->size() : 0);
  return Native(native_)->len + Native(native_)->key_len;
}

}  // namespace kstrand
