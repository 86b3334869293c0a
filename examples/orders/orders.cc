#include "orders/orders.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>

namespace kstrand::orders {
namespace {

using Json = nlohmann::json;
// Events keep the member order written here, so their bytes are fixed.
using OrderedJson = nlohmann::ordered_json;

constexpr size_t kMaxIdLength = 128;

Status Invalid(const std::string& field, const std::string& problem) {
  return Status(Errc::kInvalidArgument, field + ": " + problem);
}

// What a mistyped value was, for error messages. Containers are not printed:
// a deeply nested one would recurse once per level to print.
// A scalar as JSON text, cut short so an error message stays one line.
std::string Preview(const Json& scalar) {
  std::string text = scalar.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

std::string Describe(const Json& j) {
  if (j.is_object()) return "an object";
  if (j.is_array()) return "an array";
  if (j.is_null()) return "null";
  return std::string(j.type_name()) + " " + Preview(j);
}

Result<std::string> RequiredString(const Json& object, const char* name, const std::string& path) {
  auto it = object.find(name);
  if (it == object.end()) return Invalid(path, "missing");
  if (!it->is_string()) return Invalid(path, "must be a string, got " + Describe(*it));
  const auto& text = it->get_ref<const std::string&>();
  if (text.empty()) return Invalid(path, "must not be empty");
  if (text.size() > kMaxIdLength) {
    return Invalid(path, "must be at most " + std::to_string(kMaxIdLength) + " bytes, got " +
                             std::to_string(text.size()));
  }
  return text;
}

// JSON integers only: 2.0 is rejected, because a quantity written as a float
// is more likely a producer bug than a whole number.
Result<int64_t> RequiredInteger(const Json& object, const char* name, const std::string& path) {
  auto it = object.find(name);
  if (it == object.end()) return Invalid(path, "missing");
  if (it->is_number_unsigned()) {
    const auto v = it->get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Invalid(path, "out of range, got " + it->dump());
    }
    return static_cast<int64_t>(v);
  }
  if (it->is_number_integer()) return it->get<int64_t>();
  return Invalid(path, "must be an integer, got " + Describe(*it));
}

Result<OrderLine> ParseLine(const Json& item, const std::string& path) {
  if (!item.is_object()) return Invalid(path, "must be an object, got " + Describe(item));
  OrderLine line;
  auto sku = RequiredString(item, "sku", path + ".sku");
  if (!sku.ok()) return sku.status();
  line.sku = std::move(sku.value());
  auto quantity = RequiredInteger(item, "quantity", path + ".quantity");
  if (!quantity.ok()) return quantity.status();
  if (*quantity <= 0) return Invalid(path + ".quantity", "must be positive, got " + std::to_string(*quantity));
  line.quantity = *quantity;
  auto price = RequiredInteger(item, "unit_price_cents", path + ".unit_price_cents");
  if (!price.ok()) return price.status();
  if (*price < 0) return Invalid(path + ".unit_price_cents", "must not be negative, got " + std::to_string(*price));
  line.unit_price_cents = *price;
  return line;
}

std::string JoinedCurrencies() {
  std::string out;
  for (auto c : AcceptedCurrencies()) out += (out.empty() ? "" : ", ") + std::string(c);
  return out;
}

OrderedJson SourceJson(SourcePosition source) {
  OrderedJson j;
  j["partition"] = source.partition.value();
  j["offset"] = source.offset.value();
  return j;
}

// splitmix64: a tiny generator whose output is fixed by its definition, unlike
// <random>'s distributions, which differ between standard libraries.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // In [0, n); the modulo bias is negligible for the small n used here.
  uint64_t Below(uint64_t n) { return Next() % n; }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

// The faults GenerateOrders injects, each with the field its error names.
enum class Fault {
  kMissingOrderId,
  kEmptyCustomerId,
  kCustomerNotKey,
  kNoItems,
  kZeroQuantity,
  kFractionalQuantity,
  kNegativePrice,
  kUnknownCurrency,
  kMalformedJson,
  kCount,
};

}  // namespace

const std::vector<std::string_view>& AcceptedCurrencies() {
  static const std::vector<std::string_view> kCurrencies = {"CHF", "EUR", "GBP", "SEK", "USD"};
  return kCurrencies;
}

Result<Order> ParseOrder(std::string_view text, const OrdersOptions& options) {
  if (text.size() > options.max_order_bytes) {
    return Invalid("order", std::to_string(text.size()) + " bytes, more than the " +
                                std::to_string(options.max_order_bytes) + " allowed");
  }
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::parse_error& e) {
    // e.what() starts with "[json.exception.parse_error.101] ", which says
    // nothing to someone reading a dead letter.
    std::string why = e.what();
    if (auto pos = why.find("] "); pos != std::string::npos) why = why.substr(pos + 2);
    return Status(Errc::kInvalidArgument, "malformed JSON: " + why);
  }
  if (!j.is_object()) return Invalid("order", "must be a JSON object, got " + Describe(j));

  Order order;
  auto order_id = RequiredString(j, "order_id", "order_id");
  if (!order_id.ok()) return order_id.status();
  order.order_id = std::move(order_id.value());
  auto customer_id = RequiredString(j, "customer_id", "customer_id");
  if (!customer_id.ok()) return customer_id.status();
  order.customer_id = std::move(customer_id.value());

  auto items = j.find("items");
  if (items == j.end()) return Invalid("items", "missing");
  if (!items->is_array()) return Invalid("items", "must be an array, got " + Describe(*items));
  if (items->empty()) return Invalid("items", "must hold at least one item");
  if (items->size() > options.max_items) {
    return Invalid("items", "at most " + std::to_string(options.max_items) + " per order, got " +
                                std::to_string(items->size()));
  }
  for (size_t i = 0; i < items->size(); ++i) {
    auto line = ParseLine((*items)[i], "items[" + std::to_string(i) + "]");
    if (!line.ok()) return line.status();
    order.items.push_back(std::move(line.value()));
  }

  auto currency = j.find("currency");
  if (currency == j.end()) return Invalid("currency", "missing");
  if (!currency->is_string()) return Invalid("currency", "must be a string, got " + Describe(*currency));
  const auto& code = currency->get_ref<const std::string&>();
  const auto& accepted = AcceptedCurrencies();
  if (std::find(accepted.begin(), accepted.end(), code) == accepted.end()) {
    return Invalid("currency", "unknown " + Preview(*currency) + " (accepted: " + JoinedCurrencies() + ")");
  }
  order.currency = code;

  // A total that does not fit is invalid input too, found here rather than
  // halfway through writing events.
  auto totals = Totals(order);
  if (!totals.ok()) return totals.status();
  return order;
}

Result<Order> ValidateOrderRecord(std::optional<std::string_view> key, std::optional<std::string_view> value,
                                  const OrdersOptions& options) {
  if (!value) return Invalid("order", "the record has no value (a tombstone is not an order)");
  auto order = ParseOrder(*value, options);
  if (!order.ok()) return order;
  if (!key) return Invalid("key", "missing; orders are keyed by customer_id");
  if (*key != order->customer_id) {
    return Invalid("customer_id", "\"" + order->customer_id + "\" is not the record's key \"" + std::string(*key) +
                                      "\"; orders must be keyed by customer_id so a customer's orders stay in order");
  }
  return order;
}

Result<OrderTotals> Totals(const Order& order) {
  OrderTotals t;
  for (size_t i = 0; i < order.items.size(); ++i) {
    const OrderLine& line = order.items[i];
    int64_t line_total = 0;
    if (__builtin_mul_overflow(line.quantity, line.unit_price_cents, &line_total) ||
        __builtin_add_overflow(t.total_cents, line_total, &t.total_cents) ||
        __builtin_add_overflow(t.item_count, line.quantity, &t.item_count)) {
      return Invalid("items[" + std::to_string(i) + "]", "the order's total does not fit in 64 bits");
    }
  }
  return t;
}

Result<std::vector<OutputRecord>> OrderEvents(const Order& order, SourcePosition source,
                                              const OrdersOptions& options) {
  auto totals = Totals(order);
  if (!totals.ok()) return totals.status();
  std::vector<OutputRecord> events;
  auto add = [&](const OrderedJson& value) {
    events.push_back(OutputRecord{options.events_topic, order.customer_id, value.dump(), {}, -1});
  };

  OrderedJson accepted;
  accepted["type"] = "order_accepted";
  accepted["order_id"] = order.order_id;
  accepted["customer_id"] = order.customer_id;
  accepted["item_count"] = totals->item_count;
  accepted["line_count"] = order.items.size();
  accepted["total_cents"] = totals->total_cents;
  accepted["currency"] = order.currency;
  accepted["source"] = SourceJson(source);
  add(accepted);

  for (size_t i = 0; i < order.items.size(); ++i) {
    const OrderLine& line = order.items[i];
    OrderedJson item;
    item["type"] = "line_item";
    item["order_id"] = order.order_id;
    item["customer_id"] = order.customer_id;
    item["line"] = i;
    item["sku"] = line.sku;
    item["quantity"] = line.quantity;
    item["unit_price_cents"] = line.unit_price_cents;
    item["line_total_cents"] = line.quantity * line.unit_price_cents;  // checked by Totals
    item["currency"] = order.currency;
    item["source"] = SourceJson(source);
    add(item);
  }

  if (totals->total_cents >= options.high_value_cents) {
    OrderedJson high;
    high["type"] = "high_value_order";
    high["order_id"] = order.order_id;
    high["customer_id"] = order.customer_id;
    high["total_cents"] = totals->total_cents;
    high["threshold_cents"] = options.high_value_cents;
    high["currency"] = order.currency;
    high["source"] = SourceJson(source);
    add(high);
  }
  return events;
}

Status ProcessOrder(const Message& message, const OrdersOptions& options) {
  std::optional<std::string_view> value;
  if (!message.value_is_null()) value = message.value();
  // A validation error is a property of the bytes: no retry would fix it, so
  // it is permanent and goes straight to the dead-letter topic, while a
  // failure to deliver the events (the broker) is retried.
  auto order = ValidateOrderRecord(message.key(), value, options);
  if (!order.ok()) return Status(Errc::kPermanentFailure, order.status().detail());
  auto events = OrderEvents(*order, {message.partition(), message.offset()}, options);
  if (!events.ok()) return Status(Errc::kPermanentFailure, events.status().detail());
  for (OutputRecord& event : events.value()) message.Produce(std::move(event));
  return Status::Ok();
}

TopicHandler OrdersTopic(const OrdersOptions& options) {
  TopicHandler topic;
  topic.topic = options.input_topic;
  topic.handler = [options](const Message& m) { return ProcessOrder(m, options); };
  topic.ordering = Ordering::kKey;
  // Invalid orders fail permanently (ProcessOrder): only other failures use
  // the retries, during which the customer's later orders wait.
  topic.on_failure = FailurePolicy{3, std::chrono::milliseconds(100), std::chrono::milliseconds(10000),
                                   FailureAction::kDeadLetter, options.dead_letter_topic};
  return topic;
}

std::vector<GeneratedOrder> GenerateOrders(const GeneratorSpec& spec) {
  SplitMix64 rng(spec.seed);
  const auto& currencies = AcceptedCurrencies();
  const int customers = std::max(1, spec.customers);
  const int max_lines = std::max(1, spec.max_lines);
  std::vector<GeneratedOrder> out;
  out.reserve(spec.count);
  for (uint64_t n = 0; n < spec.count; ++n) {
    const std::string customer = "c-" + std::to_string(rng.Below(customers));
    OrderedJson order;
    order["order_id"] = "o-" + std::to_string(spec.seed) + "-" + std::to_string(n);
    order["customer_id"] = customer;
    OrderedJson items = OrderedJson::array();
    const uint64_t lines = 1 + rng.Below(max_lines);
    for (uint64_t i = 0; i < lines; ++i) {
      OrderedJson item;
      item["sku"] = "sku-" + std::to_string(rng.Below(500));
      item["quantity"] = 1 + rng.Below(5);
      item["unit_price_cents"] = 50 + rng.Below(20000);
      items.push_back(std::move(item));
    }
    order["items"] = std::move(items);
    order["currency"] = currencies[rng.Below(currencies.size())];

    GeneratedOrder g{customer, "", ""};
    // Drawn for every order, so the valid orders of two specs that differ only
    // in invalid_share are the same orders.
    const double draw = rng.Unit();
    const auto fault = static_cast<Fault>(rng.Below(static_cast<uint64_t>(Fault::kCount)));
    if (draw < spec.invalid_share) {
      switch (fault) {
        case Fault::kMissingOrderId:
          order.erase("order_id");
          g.fault = "order_id";
          break;
        case Fault::kEmptyCustomerId:
          order["customer_id"] = "";
          g.fault = "customer_id";
          break;
        case Fault::kCustomerNotKey:
          order["customer_id"] = customer + "-other";
          g.fault = "customer_id";
          break;
        case Fault::kNoItems:
          order["items"] = OrderedJson::array();
          g.fault = "items";
          break;
        case Fault::kZeroQuantity:
          order["items"][size_t{0}]["quantity"] = 0;
          g.fault = "items[0].quantity";
          break;
        case Fault::kFractionalQuantity:
          order["items"][size_t{0}]["quantity"] = 1.5;
          g.fault = "items[0].quantity";
          break;
        case Fault::kNegativePrice:
          order["items"][size_t{0}]["unit_price_cents"] = -100;
          g.fault = "items[0].unit_price_cents";
          break;
        case Fault::kUnknownCurrency:
          order["currency"] = "XYZ";
          g.fault = "currency";
          break;
        case Fault::kMalformedJson:
        case Fault::kCount:
          g.fault = "malformed JSON";
          break;
      }
    }
    g.value = order.dump();
    // Cut in the middle, so the parser meets the end inside an object.
    if (g.fault == "malformed JSON") g.value.resize(g.value.size() / 2);
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace kstrand::orders
