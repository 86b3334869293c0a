// The orders example's logic (examples/orders/orders.h) without a broker:
// every validation rule and its message, totals and events, the handler's
// produced records, and the generator's determinism.
#include "orders/orders.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

namespace kstrand::orders {
namespace {

using nlohmann::json;

const char* const kValid =
    R"({"order_id":"o-1","customer_id":"c-7","items":[{"sku":"A1","quantity":2,"unit_price_cents":1250},)"
    R"({"sku":"B2","quantity":1,"unit_price_cents":99}],"currency":"EUR"})";

// kValid with `path` (a JSON pointer) set to `value`, or removed when `value` is discarded.
std::string With(const std::string& path, const json& value) {
  json j = json::parse(kValid);
  if (value.is_discarded()) {
    auto ptr = json::json_pointer(path);
    j[ptr.parent_pointer()].erase(ptr.back());
  } else {
    j[json::json_pointer(path)] = value;
  }
  return j.dump();
}
std::string Without(const std::string& path) { return With(path, json(json::value_t::discarded)); }

// The validation error of `text`; fails the test if it parses.
std::string ErrorOf(const std::string& text, const OrdersOptions& options = {}) {
  auto order = ParseOrder(text, options);
  EXPECT_FALSE(order.ok()) << text;
  if (order.ok()) return "";
  EXPECT_EQ(order.status().code(), make_error_code(Errc::kInvalidArgument));
  return order.status().detail();
}

TEST(OrdersParse, AValidOrderParsesWithEveryField) {
  auto order = ParseOrder(kValid);
  ASSERT_TRUE(order.ok()) << order.status().ToString();
  EXPECT_EQ(order->order_id, "o-1");
  EXPECT_EQ(order->customer_id, "c-7");
  EXPECT_EQ(order->currency, "EUR");
  ASSERT_EQ(order->items.size(), 2u);
  EXPECT_EQ(order->items[0].sku, "A1");
  EXPECT_EQ(order->items[0].quantity, 2);
  EXPECT_EQ(order->items[0].unit_price_cents, 1250);
  EXPECT_EQ(order->items[1].sku, "B2");
}

TEST(OrdersParse, UnknownFieldsAreIgnoredSoProducersCanAddFieldsFirst) {
  auto order = ParseOrder(With("/note", "leave at the door"));
  ASSERT_TRUE(order.ok()) << order.status().ToString();
  order = ParseOrder(With("/items/0/colour", "red"));
  EXPECT_TRUE(order.ok()) << order.status().ToString();
}

TEST(OrdersParse, IdentifiersMustBePresentNonEmptyStrings) {
  EXPECT_EQ(ErrorOf(Without("/order_id")), "order_id: missing");
  EXPECT_EQ(ErrorOf(With("/order_id", 17)), "order_id: must be a string, got number 17");
  EXPECT_EQ(ErrorOf(With("/order_id", "")), "order_id: must not be empty");
  EXPECT_EQ(ErrorOf(With("/order_id", std::string(129, 'x'))), "order_id: must be at most 128 bytes, got 129");
  EXPECT_EQ(ErrorOf(Without("/customer_id")), "customer_id: missing");
  EXPECT_EQ(ErrorOf(With("/customer_id", nullptr)), "customer_id: must be a string, got null");
  EXPECT_EQ(ErrorOf(With("/customer_id", json::array())), "customer_id: must be a string, got an array");
  EXPECT_EQ(ErrorOf(With("/customer_id", "")), "customer_id: must not be empty");
}

TEST(OrdersParse, ItemsMustBeANonEmptyBoundedArrayOfObjects) {
  EXPECT_EQ(ErrorOf(Without("/items")), "items: missing");
  EXPECT_EQ(ErrorOf(With("/items", json::object())), "items: must be an array, got an object");
  EXPECT_EQ(ErrorOf(With("/items", json::array())), "items: must hold at least one item");
  EXPECT_EQ(ErrorOf(With("/items/1", "B2")), "items[1]: must be an object, got string \"B2\"");
  OrdersOptions few;
  few.max_items = 1;
  EXPECT_EQ(ErrorOf(kValid, few), "items: at most 1 per order, got 2");
}

TEST(OrdersParse, EachLineNeedsASkuAPositiveIntegerQuantityAndANonNegativePrice) {
  EXPECT_EQ(ErrorOf(Without("/items/1/sku")), "items[1].sku: missing");
  EXPECT_EQ(ErrorOf(With("/items/0/sku", "")), "items[0].sku: must not be empty");
  EXPECT_EQ(ErrorOf(Without("/items/0/quantity")), "items[0].quantity: missing");
  EXPECT_EQ(ErrorOf(With("/items/0/quantity", 0)), "items[0].quantity: must be positive, got 0");
  EXPECT_EQ(ErrorOf(With("/items/1/quantity", -3)), "items[1].quantity: must be positive, got -3");
  EXPECT_EQ(ErrorOf(With("/items/0/quantity", 1.5)), "items[0].quantity: must be an integer, got number 1.5");
  EXPECT_EQ(ErrorOf(With("/items/0/quantity", 2.0)), "items[0].quantity: must be an integer, got number 2.0");
  EXPECT_EQ(ErrorOf(With("/items/0/quantity", "2")), "items[0].quantity: must be an integer, got string \"2\"");
  EXPECT_EQ(ErrorOf(With("/items/0/quantity", 18446744073709551615ULL)),
            "items[0].quantity: out of range, got 18446744073709551615");
  EXPECT_EQ(ErrorOf(Without("/items/1/unit_price_cents")), "items[1].unit_price_cents: missing");
  EXPECT_EQ(ErrorOf(With("/items/1/unit_price_cents", -1)), "items[1].unit_price_cents: must not be negative, got -1");
  EXPECT_TRUE(ParseOrder(With("/items/1/unit_price_cents", 0)).ok()) << "free items are valid";
}

TEST(OrdersParse, TheCurrencyMustBeOneOfTheAcceptedCodes) {
  EXPECT_EQ(ErrorOf(Without("/currency")), "currency: missing");
  EXPECT_EQ(ErrorOf(With("/currency", 978)), "currency: must be a string, got number 978");
  EXPECT_EQ(ErrorOf(With("/currency", "XYZ")), "currency: unknown \"XYZ\" (accepted: CHF, EUR, GBP, SEK, USD)");
  EXPECT_EQ(ErrorOf(With("/currency", "eur")), "currency: unknown \"eur\" (accepted: CHF, EUR, GBP, SEK, USD)");
  for (auto code : AcceptedCurrencies()) EXPECT_TRUE(ParseOrder(With("/currency", code)).ok()) << code;
}

TEST(OrdersParse, MalformedOrNonObjectJsonIsRejectedSayingWhere) {
  std::string error = ErrorOf(R"({"order_id":"o-1",)");
  EXPECT_EQ(error.rfind("malformed JSON: parse error at line 1, column ", 0), 0u) << error;
  EXPECT_NE(error.find("unexpected end of input"), std::string::npos) << error;
  EXPECT_EQ(ErrorOf("").rfind("malformed JSON: ", 0), 0u);
  EXPECT_EQ(ErrorOf("\xff\xfe").rfind("malformed JSON: ", 0), 0u) << "invalid UTF-8";
  EXPECT_EQ(ErrorOf("[1,2]"), "order: must be a JSON object, got an array");
  EXPECT_EQ(ErrorOf("42"), "order: must be a JSON object, got number 42");
}

TEST(OrdersParse, OverLongBodiesAreRejectedBeforeParsing) {
  OrdersOptions small;
  small.max_order_bytes = 100;
  std::string big(101, '[');  // would be malformed too: the size is checked first
  EXPECT_EQ(ErrorOf(big, small), "order: 101 bytes, more than the 100 allowed");
  // Deep nesting within the default limit is an error, not a crash.
  std::string deep = std::string(30000, '[') + std::string(30000, ']');
  EXPECT_EQ(ErrorOf(deep), "order: must be a JSON object, got an array");
}

TEST(OrdersParse, TotalsThatDoNotFitIn64BitsAreRejected) {
  std::string huge = With("/items/0/unit_price_cents", int64_t{1} << 62);
  EXPECT_EQ(ErrorOf(huge), "items[0]: the order's total does not fit in 64 bits");
}

TEST(OrdersRecord, TheKeyMustBeTheCustomerAndTheValuePresent) {
  EXPECT_TRUE(ValidateOrderRecord("c-7", kValid).ok());
  auto wrong = ValidateOrderRecord("c-8", kValid);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().detail().rfind(R"(customer_id: "c-7" is not the record's key "c-8")", 0), 0u)
      << wrong.status().detail();
  auto no_key = ValidateOrderRecord(std::nullopt, kValid);
  ASSERT_FALSE(no_key.ok());
  EXPECT_EQ(no_key.status().detail(), "key: missing; orders are keyed by customer_id");
  auto tombstone = ValidateOrderRecord("c-7", std::nullopt);
  ASSERT_FALSE(tombstone.ok());
  EXPECT_EQ(tombstone.status().detail(), "order: the record has no value (a tombstone is not an order)");
  // A broken value is reported as such, not as a key problem.
  auto broken = ValidateOrderRecord(std::nullopt, "{");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().detail().rfind("malformed JSON", 0), 0u);
}

TEST(OrdersEvents, AnOrderBecomesAcceptedThenOneEventPerLineKeyedByCustomer) {
  auto order = ParseOrder(kValid);
  ASSERT_TRUE(order.ok());
  auto events = OrderEvents(*order, {Partition(3), Offset(41)});
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->size(), 3u) << "order_accepted and two line_item events; below the high-value threshold";
  for (const auto& e : *events) {
    EXPECT_EQ(e.topic, "order-events");
    EXPECT_EQ(e.key, "c-7");
    EXPECT_EQ(e.partition, -1) << "partitioned by key, like the input";
  }
  EXPECT_EQ((*events)[0].value,
            R"({"type":"order_accepted","order_id":"o-1","customer_id":"c-7","item_count":3,"line_count":2,)"
            R"("total_cents":2599,"currency":"EUR","source":{"partition":3,"offset":41}})");
  EXPECT_EQ((*events)[1].value,
            R"({"type":"line_item","order_id":"o-1","customer_id":"c-7","line":0,"sku":"A1","quantity":2,)"
            R"("unit_price_cents":1250,"line_total_cents":2500,"currency":"EUR","source":{"partition":3,"offset":41}})");
  EXPECT_EQ(json::parse((*events)[2].value)["line_total_cents"], 99);
}

TEST(OrdersEvents, OrdersAtTheThresholdAlsoGetAHighValueEvent) {
  auto order = ParseOrder(kValid);
  ASSERT_TRUE(order.ok());
  OrdersOptions options;
  options.high_value_cents = 2599;
  auto events = OrderEvents(*order, {Partition(0), Offset(7)}, options);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 4u);
  EXPECT_EQ(events->back().value,
            R"({"type":"high_value_order","order_id":"o-1","customer_id":"c-7","total_cents":2599,)"
            R"("threshold_cents":2599,"currency":"EUR","source":{"partition":0,"offset":7}})");
  options.high_value_cents = 2600;
  EXPECT_EQ(OrderEvents(*order, {Partition(0), Offset(7)}, options)->size(), 3u);
}

TEST(OrdersEvents, TotalsSumQuantitiesAndLinePrices) {
  Order order{"o", "c", {{"a", 3, 100}, {"b", 1, 0}, {"c", 10, 7}}, "USD"};
  auto totals = Totals(order);
  ASSERT_TRUE(totals.ok());
  EXPECT_EQ(totals->item_count, 14);
  EXPECT_EQ(totals->total_cents, 370);
}

TEST(OrdersEvents, EqualInputsGiveByteIdenticalEvents) {
  auto a = ParseOrder(kValid);
  auto b = ParseOrder(json::parse(kValid).dump(2));  // same order, other whitespace
  ASSERT_TRUE(a.ok() && b.ok());
  auto ea = OrderEvents(*a, {Partition(1), Offset(2)});
  auto eb = OrderEvents(*b, {Partition(1), Offset(2)});
  ASSERT_TRUE(ea.ok() && eb.ok());
  ASSERT_EQ(ea->size(), eb->size());
  for (size_t i = 0; i < ea->size(); ++i) EXPECT_EQ((*ea)[i].value, (*eb)[i].value);
}

TEST(OrdersHandler, AValidOrderProducesItsEventsAndAnInvalidOneFailsNamingTheField) {
  OrdersOptions options;
  Message ok = Message::Make("orders", Partition(2), Offset(5), "c-7", kValid);
  ASSERT_TRUE(ProcessOrder(ok, options).ok());
  auto produced = ok.TakeProduced();
  auto order = ParseOrder(kValid);
  ASSERT_TRUE(order.ok());
  auto expected = OrderEvents(*order, {Partition(2), Offset(5)});
  ASSERT_EQ(produced.size(), expected->size());
  for (size_t i = 0; i < produced.size(); ++i) EXPECT_EQ(produced[i].value, (*expected)[i].value);

  Message bad = Message::Make("orders", Partition(2), Offset(6), "c-7", With("/items/0/quantity", 0));
  Status st = ProcessOrder(bad, options);
  EXPECT_EQ(st.detail(), "items[0].quantity: must be positive, got 0");
  // No retry would fix the bytes: the policy's dead letter comes at once.
  EXPECT_EQ(st.code(), make_error_code(Errc::kPermanentFailure));
  EXPECT_TRUE(bad.TakeProduced().empty());
}

TEST(OrdersHandler, TheSubscriptionDeadLettersInvalidOrdersAndRetriesOtherFailuresKeepingPerKeyOrder) {
  OrdersOptions options;
  options.input_topic = "in";
  options.dead_letter_topic = "in-dlq";
  TopicHandler t = OrdersTopic(options);
  EXPECT_EQ(t.topic, "in");
  EXPECT_TRUE(t.handler);
  EXPECT_EQ(t.ordering, Ordering::kKey);
  EXPECT_EQ(t.on_failure.max_attempts, 3);  // invalid orders skip them: ProcessOrder fails permanently
  EXPECT_EQ(t.on_failure.then, FailureAction::kDeadLetter);
  EXPECT_EQ(t.on_failure.dead_letter_topic, "in-dlq");
}

TEST(OrdersGenerator, TheSameSeedGivesTheSameOrders) {
  GeneratorSpec spec{.count = 500, .customers = 20, .invalid_share = 0.1, .seed = 42};
  auto a = GenerateOrders(spec);
  auto b = GenerateOrders(spec);
  ASSERT_EQ(a.size(), 500u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].key, b[i].key);
    EXPECT_EQ(a[i].value, b[i].value);
  }
  spec.seed = 43;
  EXPECT_NE(GenerateOrders(spec)[0].value, a[0].value);
}

TEST(OrdersGenerator, ValidOrdersValidateAndEachFaultFailsNamingItsField) {
  GeneratorSpec spec{.count = 2000, .customers = 50, .invalid_share = 0.2, .seed = 7};
  size_t invalid = 0;
  std::set<std::string> keys, faults;
  for (const auto& g : GenerateOrders(spec)) {
    keys.insert(g.key);
    auto order = ValidateOrderRecord(g.key, g.value);
    if (g.fault.empty()) {
      EXPECT_TRUE(order.ok()) << g.value << ": " << order.status().detail();
      continue;
    }
    ++invalid;
    faults.insert(g.fault);
    ASSERT_FALSE(order.ok()) << g.value;
    EXPECT_EQ(order.status().detail().rfind(g.fault, 0), 0u) << order.status().detail() << " should name " << g.fault;
  }
  EXPECT_EQ(keys.size(), 50u) << "every customer is used";
  EXPECT_NEAR(static_cast<double>(invalid) / spec.count, 0.2, 0.03);
  EXPECT_EQ(faults.size(), 7u) << "order_id, customer_id, items, items[0].quantity, "
                                  "items[0].unit_price_cents, currency, malformed JSON";
}

}  // namespace
}  // namespace kstrand::orders
