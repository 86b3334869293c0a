// The orders example's end-to-end checks, shared by the mock tier
// (at-least-once on the embedded broker) and the kafka tier (exactly-once on
// real Kafka): writing generated orders, and reading back what the processor
// made of them.
//
// Thread safety: call from the test thread.
#pragma once

#include <string>
#include <vector>

#include "orders/orders.h"

namespace kstrand::test {

// Produces the orders (each keyed by its customer) and waits until all are acknowledged.
void ProduceOrders(const std::string& bootstrap, const std::string& topic,
                   const std::vector<orders::GeneratedOrder>& generated);

// Reads the input, events and dead-letter topics back with plain consumers
// (isolation.level=read_committed) and checks, through gtest, that:
//   - the events topic holds exactly the events of each valid order, derived
//     from the order's position in the input, once each, in each customer's
//     input order, keyed by customer;
//   - every order_accepted total equals the total recomputed from the
//     generated JSON (not with the processor's code);
//   - the dead-letter topic holds exactly the invalid orders, once each, as
//     they were written, with a kstrand-error header starting with the field
//     the generator broke, and the kstrand-source-* headers of their input position.
void ExpectOrdersOutcome(const std::string& bootstrap, const orders::OrdersOptions& options, int partitions,
                         const std::vector<orders::GeneratedOrder>& generated);

}  // namespace kstrand::test
