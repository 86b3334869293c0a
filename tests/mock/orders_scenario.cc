#include "orders_scenario.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "harness.h"
#include "kafka/producer.h"

namespace kstrand::test {

using nlohmann::json;
using orders::GeneratedOrder;

void ProduceOrders(const std::string& bootstrap, const std::string& topic,
                   const std::vector<GeneratedOrder>& generated) {
  auto producer = kafka::Producer::Create({{"bootstrap.servers", bootstrap}, {"log_level", "4"}});
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  for (const auto& g : generated) ASSERT_TRUE((*producer)->Produce(topic, g.key, g.value).ok());
  ASSERT_TRUE((*producer)->Flush(30000).ok());
  ASSERT_EQ((*producer)->delivered(), generated.size());
}

void ExpectOrdersOutcome(const std::string& bootstrap, const orders::OrdersOptions& options, int partitions,
                         const std::vector<GeneratedOrder>& generated) {
  std::map<std::string, const GeneratedOrder*> by_value;  // the bytes identify an order: its id is unique
  size_t invalid = 0;
  for (const auto& g : generated) {
    ASSERT_TRUE(by_value.emplace(g.value, &g).second) << "duplicate generated value " << g.value;
    if (!g.fault.empty()) ++invalid;
  }

  // What each input record should have become, from its position in the input.
  const auto input = ReadTopic(bootstrap, options.input_topic, partitions, generated.size());
  ASSERT_EQ(input.size(), generated.size());
  std::map<std::string, std::vector<std::string>> expected_per_customer;  // event values, in input order
  std::map<std::pair<int32_t, int64_t>, const GeneratedOrder*> invalid_at;
  size_t expected_events = 0;
  for (const auto& rec : input) {  // in offset order per partition, so in order per customer
    const GeneratedOrder* g = by_value.at(rec.value);
    if (!g->fault.empty()) {
      invalid_at[{rec.partition, rec.offset}] = g;
      continue;
    }
    auto order = orders::ParseOrder(rec.value);
    ASSERT_TRUE(order.ok()) << order.status().ToString();
    auto events = orders::OrderEvents(*order, {Partition(rec.partition), Offset(rec.offset)}, options);
    ASSERT_TRUE(events.ok());
    for (const auto& e : *events) expected_per_customer[*e.key].push_back(e.value);
    expected_events += events->size();
  }
  ASSERT_GT(expected_events, 2 * (generated.size() - invalid)) << "several events per order";

  // One more than expected is asked for: none may come.
  const auto events = ReadTopic(bootstrap, options.events_topic, partitions, expected_events + 1, 5s);
  EXPECT_EQ(events.size(), expected_events);
  std::map<std::string, std::vector<std::string>> got_per_customer;
  std::map<std::string, int64_t> total_of;  // order_id -> total_cents of its order_accepted
  for (const auto& e : events) {
    ASSERT_TRUE(e.key.has_value());
    got_per_customer[*e.key].push_back(e.value);
    json v = json::parse(e.value);
    EXPECT_EQ(v["customer_id"], *e.key) << "events are keyed by customer";
    if (v["type"] == "order_accepted") {
      EXPECT_TRUE(total_of.emplace(v["order_id"].get<std::string>(), v["total_cents"].get<int64_t>()).second)
          << "one order_accepted per order";
    }
  }
  for (const auto& [customer, expected] : expected_per_customer) {
    EXPECT_EQ(got_per_customer[customer], expected) << "customer " << customer << ": its events, once, in order";
  }
  EXPECT_EQ(got_per_customer.size(), expected_per_customer.size());

  // The totals, recomputed from the generated orders, not with the processor's code.
  for (const auto& g : generated) {
    if (!g.fault.empty()) continue;
    json order = json::parse(g.value);
    int64_t total = 0;
    for (const auto& item : order["items"]) {
      total += item["quantity"].get<int64_t>() * item["unit_price_cents"].get<int64_t>();
    }
    auto it = total_of.find(order["order_id"].get<std::string>());
    ASSERT_NE(it, total_of.end()) << "no order_accepted for " << order["order_id"];
    EXPECT_EQ(it->second, total) << order["order_id"];
  }

  const auto letters = ReadTopic(bootstrap, options.dead_letter_topic, partitions, invalid + 1, 5s);
  EXPECT_EQ(letters.size(), invalid);
  std::set<std::pair<int32_t, int64_t>> lettered;
  for (const auto& l : letters) {
    ASSERT_TRUE(l.headers.count("kstrand-source-partition") && l.headers.count("kstrand-source-offset") &&
                l.headers.count("kstrand-error"))
        << "dead letter without kstrand headers: " << l.value;
    const std::pair<int32_t, int64_t> source{std::stoi(l.headers.at("kstrand-source-partition")),
                                             std::stoll(l.headers.at("kstrand-source-offset"))};
    EXPECT_EQ(l.headers.at("kstrand-source-topic"), options.input_topic);
    ASSERT_TRUE(invalid_at.count(source)) << "dead letter of a valid order: " << l.value;
    const GeneratedOrder* g = invalid_at.at(source);
    EXPECT_TRUE(lettered.insert(source).second) << "dead-lettered twice: " << l.value;
    EXPECT_EQ(l.value, g->value) << "the original record";
    EXPECT_EQ(l.key, g->key);
    EXPECT_EQ(l.headers.at("kstrand-error").rfind(g->fault, 0), 0u)
        << "kstrand-error \"" << l.headers.at("kstrand-error") << "\" should start with " << g->fault;
    EXPECT_EQ(l.headers.at("kstrand-attempts"), "1") << "invalid input is not retried";
  }
  EXPECT_EQ(lettered.size(), invalid_at.size());
}

}  // namespace kstrand::test
