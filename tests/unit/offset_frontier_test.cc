// OffsetFrontier: the committable offset never passes an incomplete message.
#include "runtime/offset_frontier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

namespace kstrand::runtime {
namespace {

TEST(OffsetFrontierTest, CommittableIsNulloptBeforeTheFirstTrack) {
  OffsetFrontier f;
  EXPECT_FALSE(f.Committable().has_value());
  f.Complete(0);  // unknown offsets are ignored
  EXPECT_FALSE(f.Committable().has_value());
  EXPECT_EQ(f.pending(), 0u);
}

TEST(OffsetFrontierTest, TrackedButIncompleteHoldsAtTheFirstOffset) {
  OffsetFrontier f;
  f.Track(42);
  EXPECT_EQ(f.Committable(), 42);
  EXPECT_EQ(f.pending(), 1u);
}

TEST(OffsetFrontierTest, InOrderCompletionsAdvanceOnePastEach) {
  OffsetFrontier f;
  for (int64_t o = 0; o < 10; ++o) f.Track(o);
  for (int64_t o = 0; o < 10; ++o) {
    f.Complete(o);
    EXPECT_EQ(f.Committable(), o + 1);
    EXPECT_EQ(f.pending(), static_cast<size_t>(9 - o));
  }
}

TEST(OffsetFrontierTest, OutOfOrderCompletionsAdvanceOnlyWhenTheLowestCompletes) {
  OffsetFrontier f;
  for (int64_t o = 100; o < 105; ++o) f.Track(o);
  f.Complete(103);
  f.Complete(101);
  f.Complete(104);
  EXPECT_EQ(f.Committable(), 100);  // 100 still open
  EXPECT_EQ(f.pending(), 2u);
  f.Complete(100);
  EXPECT_EQ(f.Committable(), 102);  // 101 done, 102 open
  f.Complete(102);
  EXPECT_EQ(f.Committable(), 105);  // all done: one past the last tracked
  EXPECT_EQ(f.pending(), 0u);
}

TEST(OffsetFrontierTest, NeverCompletedOffsetHoldsTheFrontierForever) {
  OffsetFrontier f;
  for (int64_t o = 0; o < 1000; ++o) f.Track(o);
  for (int64_t o = 0; o < 1000; ++o) {
    if (o != 7) f.Complete(o);
  }
  EXPECT_EQ(f.Committable(), 7);
  // Later messages completing do not move it either.
  for (int64_t o = 1000; o < 2000; ++o) {
    f.Track(o);
    f.Complete(o);
  }
  EXPECT_EQ(f.Committable(), 7);
  EXPECT_EQ(f.pending(), 1u);
}

TEST(OffsetFrontierTest, GapsInOffsetsAreSkipped) {
  // Compacted topics and transaction markers leave holes in the offsets.
  OffsetFrontier f;
  f.Track(5);
  f.Track(9);
  f.Track(20);
  f.Complete(5);
  EXPECT_EQ(f.Committable(), 9);  // the next tracked offset, not 6
  f.Complete(20);
  EXPECT_EQ(f.Committable(), 9);
  f.Complete(9);
  EXPECT_EQ(f.Committable(), 21);
}

TEST(OffsetFrontierTest, CompletingTwiceOrUnknownOffsetsChangesNothing) {
  OffsetFrontier f;
  f.Track(0);
  f.Track(2);
  f.Complete(1);  // never tracked (a gap)
  EXPECT_EQ(f.Committable(), 0);
  EXPECT_EQ(f.pending(), 2u);
  f.Complete(2);
  f.Complete(2);
  EXPECT_EQ(f.pending(), 1u);
  EXPECT_EQ(f.Committable(), 0);
  f.Complete(0);
  EXPECT_EQ(f.Committable(), 3);
  EXPECT_EQ(f.pending(), 0u);
}

// Property: under any completion order (and with gaps in the offsets), the
// frontier is exactly the lowest incomplete tracked offset, the span and the
// completions above it match a plain model, and it never moves backwards.
TEST(OffsetFrontierTest, RandomCompletionOrdersMatchAModel) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 200; ++round) {
    std::vector<int64_t> offsets;
    int64_t o = rng() % 1000;
    for (int i = 0; i < 300; ++i) {
      offsets.push_back(o);
      o += 1 + (rng() % 4 == 0 ? rng() % 5 : 0);  // some gaps, as compaction leaves
    }
    OffsetFrontier f;
    for (int64_t off : offsets) f.Track(off);
    std::set<int64_t> incomplete(offsets.begin(), offsets.end());
    std::set<int64_t> done;
    std::vector<int64_t> order = offsets;
    std::shuffle(order.begin(), order.end(), rng);
    int64_t previous = *f.Committable();
    const std::set<int64_t> tracked(offsets.begin(), offsets.end());
    for (int64_t off : order) {
      // An offset never tracked (in a gap, or past the end) changes nothing.
      if (int64_t stray = offsets.front() + static_cast<int64_t>(rng() % 1300); !tracked.count(stray)) {
        f.Complete(stray);
        ASSERT_EQ(f.pending(), incomplete.size());
      }
      f.Complete(off);
      incomplete.erase(off);
      done.insert(off);
      const int64_t want = incomplete.empty() ? offsets.back() + 1 : *incomplete.begin();
      ASSERT_EQ(f.Committable(), want);
      ASSERT_GE(want, previous);
      previous = want;
      std::vector<int64_t> above(done.upper_bound(want), done.end());
      ASSERT_EQ(f.CompletedAbove(), above);
      ASSERT_EQ(f.span(), incomplete.empty() ? 0 : offsets.back() + 1 - want);
      ASSERT_EQ(f.pending(), incomplete.size());
    }
  }
}

}  // namespace
}  // namespace kstrand::runtime
