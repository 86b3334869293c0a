// Message::Make: a test message answers every accessor like a consumed one.
#include "kstrand/message.h"

#include <gtest/gtest.h>

#include <chrono>
#include <utility>

namespace kstrand {
namespace {

TEST(MessageTest, MakeAnswersEveryAccessor) {
  const auto before = std::chrono::system_clock::now();
  Message m = Message::Make("orders", Partition(3), Offset(42), "customer-7", "payload",
                            {{"trace", "abc"}, {"retry", "1"}, {"trace", "second"}});
  EXPECT_EQ(m.topic(), "orders");
  EXPECT_EQ(m.partition(), Partition(3));
  EXPECT_EQ(m.offset(), Offset(42));
  ASSERT_TRUE(m.key().has_value());
  EXPECT_EQ(*m.key(), "customer-7");
  EXPECT_EQ(m.value(), "payload");
  EXPECT_FALSE(m.value_is_null());
  EXPECT_EQ(m.size(), std::string("customer-7").size() + std::string("payload").size());
  EXPECT_GE(m.timestamp(), before);
  EXPECT_LE(m.timestamp(), std::chrono::system_clock::now());

  auto headers = m.headers();
  ASSERT_EQ(headers.size(), 3u);
  EXPECT_EQ(headers[0], (std::pair<std::string_view, std::string_view>{"trace", "abc"}));
  EXPECT_EQ(headers[1], (std::pair<std::string_view, std::string_view>{"retry", "1"}));
  EXPECT_EQ(m.header("trace"), "abc");  // the first of repeated headers
  EXPECT_EQ(m.header("retry"), "1");
  EXPECT_FALSE(m.header("missing").has_value());
  EXPECT_EQ(m.native(), nullptr);
}

TEST(MessageTest, NullKeyIsNotAnEmptyKey) {
  Message null_key = Message::Make("t", Partition(0), Offset(0), std::nullopt, "v");
  EXPECT_FALSE(null_key.key().has_value());
  EXPECT_EQ(null_key.size(), 1u);
  EXPECT_TRUE(null_key.headers().empty());

  Message empty_key = Message::Make("t", Partition(0), Offset(0), std::string(), "");
  ASSERT_TRUE(empty_key.key().has_value());
  EXPECT_EQ(*empty_key.key(), "");
  EXPECT_EQ(empty_key.value(), "");
  EXPECT_EQ(empty_key.size(), 0u);
}

TEST(MessageTest, MoveTransfersOwnershipAndViewsStayValid) {
  Message a = Message::Make("t", Partition(1), Offset(9), "k", std::string(1000, 'x'));
  const char* data = a.value().data();
  Message b(std::move(a));
  EXPECT_EQ(b.value().data(), data);  // the buffer moved, not copied
  EXPECT_EQ(b.offset(), Offset(9));
  Message c;
  c = std::move(b);
  EXPECT_EQ(c.value().size(), 1000u);
  EXPECT_EQ(c.partition(), Partition(1));
  c = Message::Make("u", Partition(2), Offset(10), std::nullopt, "y");  // the old one is freed
  EXPECT_EQ(c.topic(), "u");
}

}  // namespace
}  // namespace kstrand
