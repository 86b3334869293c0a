// The orders processor (the seed's `orders` scenario): reads orders keyed by
// customer, validates each one, and writes what it learned to `order-events`
// keyed by the same customer, so one customer's events stay in order. An
// invalid order is not retried (the same bytes would fail again): it goes to
// the dead-letter topic with the validation error in its kstrand-error header.
//
// Under exactly-once delivery an order's events, its dead letter if any, and
// its input offset commit in one Kafka transaction; read_committed readers see
// every valid order's events exactly once.
//
// Everything here is deterministic: the events of an order depend only on the
// order's bytes and its position in the input topic (no wall clock), so two
// runs over the same input can be compared record for record.
//
// Thread safety: plain functions over values; the handler OrdersTopic returns
// may run on many worker threads at once (it holds only its options).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <kstrand/config.h>
#include <kstrand/message.h>
#include <kstrand/status.h>
#include <kstrand/types.h>

namespace kstrand::orders {

struct OrdersOptions {
  std::string input_topic = "orders";
  std::string events_topic = "order-events";
  std::string dead_letter_topic = "orders-dlq";
  // Larger records are rejected before parsing, so a huge value cannot make a
  // worker allocate without bound.
  size_t max_order_bytes = 64 * 1024;
  // Each line becomes one event, all in one transaction: this bounds that.
  size_t max_items = 100;
  // Orders whose total reaches this also get a high_value_order event.
  int64_t high_value_cents = 100000;
};

// The currencies orders may use (ISO 4217 codes with a 1/100 minor unit, so
// "cents" means what it says for each).
const std::vector<std::string_view>& AcceptedCurrencies();

struct OrderLine {
  std::string sku;
  int64_t quantity = 0;          // > 0
  int64_t unit_price_cents = 0;  // >= 0 (free items exist)
};

struct Order {
  std::string order_id;
  std::string customer_id;
  std::vector<OrderLine> items;  // at least one
  std::string currency;          // one of AcceptedCurrencies()
};

// Parses and validates an order's JSON. Errors are Errc::kInvalidArgument and
// name the field ("items[2].quantity: must be positive, got 0"). Fields this
// version does not know are ignored, so producers can add fields before every
// processor is upgraded; a misspelt required field still fails as missing.
Result<Order> ParseOrder(std::string_view json, const OrdersOptions& options = {});

// ParseOrder plus what only the record shows: a value is present, and the
// record's key is the order's customer_id (the key decides the partition, so a
// wrong key would put the customer's orders out of order with each other).
Result<Order> ValidateOrderRecord(std::optional<std::string_view> key, std::optional<std::string_view> value,
                                  const OrdersOptions& options = {});

// Where an order was read from; it goes into every event, so a reader can trace
// an event back, and so the events of two identical orders differ.
struct SourcePosition {
  Partition partition{0};
  Offset offset{0};
};

struct OrderTotals {
  int64_t item_count = 0;   // sum of quantities
  int64_t total_cents = 0;  // sum of quantity * unit price
};

// Errc::kInvalidArgument naming the line if a sum does not fit in 64 bits.
Result<OrderTotals> Totals(const Order& order);

// The events of a valid order, in the order they are written, each keyed by
// customer_id for events_topic:
//   order_accepted     always first: item_count, line_count, total_cents, currency
//   line_item          one per line, in the order's line order
//   high_value_order   when total_cents >= high_value_cents
// Every value carries "source": {"partition": p, "offset": o}. Values are JSON
// with a fixed member order, byte-identical for equal inputs.
Result<std::vector<OutputRecord>> OrderEvents(const Order& order, SourcePosition source,
                                              const OrdersOptions& options = {});

// The handler: validates the record and produces its events with
// Message::Produce; an invalid order returns its validation error.
Status ProcessOrder(const Message& message, const OrdersOptions& options);

// The subscription for input_topic: ProcessOrder, key ordering (a customer's
// orders in order, different customers of one partition in parallel), and
// dead-lettering on the first failure (validation errors are permanent).
TopicHandler OrdersTopic(const OrdersOptions& options);

// Test orders for `orders produce` and the tests.
struct GeneratorSpec {
  uint64_t count = 1000;
  int customers = 100;         // keys c-0 .. c-<customers-1>, picked uniformly
  double invalid_share = 0.05; // about this share is invalid, one fault each
  uint64_t seed = 1;
  int max_lines = 4;           // 1..max_lines lines per order
};

struct GeneratedOrder {
  std::string key;    // the customer picked (also for invalid orders)
  std::string value;  // the order's JSON, or the fault's bytes
  // Empty for a valid order; else the field (or "JSON", "key") the
  // validation error of this order names.
  std::string fault;
};

// Deterministic: the same spec gives the same orders on every platform (its
// own generator, not <random>'s implementation-defined distributions).
std::vector<GeneratedOrder> GenerateOrders(const GeneratorSpec& spec);

}  // namespace kstrand::orders
