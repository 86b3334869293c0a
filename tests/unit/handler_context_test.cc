// What a handler learns from its Message: which attempt it runs, when to give
// up (its partition revoked), and that a permanent failure skips the retries.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <vector>

#include "lane_rig.h"

namespace kstrand::runtime {
namespace {

TopicHandler Retrying(Handler handler, int max_attempts, FailureAction then) {
  TopicHandler spec;
  spec.handler = std::move(handler);
  spec.on_failure = {.max_attempts = max_attempts, .backoff = 1ms, .max_backoff = 2ms, .then = then};
  return spec;
}

TEST(HandlerContextTest, AttemptCountsRetriesAndStartsAtOneForTheNextMessage) {
  std::mutex mu;
  std::map<int64_t, std::vector<int>> attempts;  // guarded by mu
  Handler handler = [&](const Message& m) {
    std::lock_guard lock(mu);
    attempts[m.offset().value()].push_back(m.attempt());
    if (m.offset().value() == 2 && m.attempt() < 3) return Status(Errc::kHandlerFailed, "not yet");
    return Status::Ok();
  };
  Rig rig(2);
  auto lane = rig.MakeLane(0, Retrying(handler, 3, FailureAction::kStopPartition));
  for (int64_t o = 0; o < 5; ++o) ASSERT_TRUE(lane->Push(Msg(0, o)));
  ASSERT_TRUE(lane->WaitIdle(In(10s)));

  std::lock_guard lock(mu);
  const std::map<int64_t, std::vector<int>> want = {{0, {1}}, {1, {1}}, {2, {1, 2, 3}}, {3, {1}}, {4, {1}}};
  EXPECT_EQ(attempts, want);
  EXPECT_EQ(CommitOffset(*lane), 5);
  EXPECT_EQ(lane->Snapshot().retried, 2u);
}

TEST(HandlerContextTest, AsyncHandlersSeeTheirAttemptToo) {
  std::mutex mu;
  std::vector<int> seen;  // guarded by mu
  TopicHandler spec;
  spec.async_handler = [&](const Message& m, Completion done) {
    {
      std::lock_guard lock(mu);
      seen.push_back(m.attempt());
    }
    done(m.attempt() < 2 ? Status(Errc::kHandlerFailed, "first try fails") : Status::Ok());
  };
  spec.on_failure = {.max_attempts = 2, .backoff = 1ms, .max_backoff = 2ms};
  Rig rig(2);
  auto lane = rig.MakeLane(0, std::move(spec));
  ASSERT_TRUE(lane->Push(Msg(0, 0)));
  ASSERT_TRUE(lane->WaitIdle(In(10s)));
  EXPECT_EQ(CommitOffset(*lane), 1);
  std::lock_guard lock(mu);
  EXPECT_EQ(seen, (std::vector<int>{1, 2}));
}

TEST(HandlerContextTest, PermanentFailureSkipsTheRemainingAttemptsAndAppliesThePolicy) {
  std::atomic<int> calls_at_1{0};
  Handler handler = [&](const Message& m) {
    if (m.offset().value() != 1) return Status::Ok();
    calls_at_1++;
    return Status(Errc::kPermanentFailure, "order has no items");
  };
  Rig rig(2);
  auto lane = rig.MakeLane(0, Retrying(handler, 5, FailureAction::kSkip));
  for (int64_t o = 0; o < 4; ++o) ASSERT_TRUE(lane->Push(Msg(0, o)));
  ASSERT_TRUE(lane->WaitIdle(In(10s)));

  EXPECT_EQ(calls_at_1.load(), 1);
  auto s = lane->Snapshot();
  EXPECT_EQ(s.retried, 0u);
  EXPECT_EQ(s.skipped, 1u);
  EXPECT_EQ(s.processed, 3u);
  EXPECT_EQ(CommitOffset(*lane), 4);
}

TEST(HandlerContextTest, StopTokenIsRequestedWhenThePartitionIsRevoked) {
  Gate entered;
  std::atomic<bool> gave_up{false};
  Handler handler = [&](const Message& m) {
    entered.Open();
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    // A long call that polls nothing: it waits on the token alone.
    (void)cv.wait_for(lock, m.stop_token(), 30s, [] { return false; });
    const bool stopped = m.stop_token().stop_requested();
    gave_up = stopped;
    return stopped ? Status(Errc::kShuttingDown, "partition revoked") : Status::Ok();
  };
  Rig rig(1);
  auto lane = rig.MakeLane(0, handler);
  ASSERT_TRUE(lane->Push(Msg(0, 0)));
  ASSERT_TRUE(entered.Wait());
  const auto start = std::chrono::steady_clock::now();
  lane->Revoke(/*drop_buffered=*/true);
  ASSERT_TRUE(lane->WaitIdle(In(5s))) << "the handler did not see its partition revoked";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(gave_up.load());
  EXPECT_EQ(CommitOffset(*lane), 0);  // the abandoned message is not done
}

TEST(HandlerContextTest, MessagesMadeForTestsReportAFirstAttemptAndNoStop) {
  Message m = Msg(0, 7);
  EXPECT_EQ(m.attempt(), 1);
  EXPECT_FALSE(m.stop_token().stop_possible());
}

}  // namespace
}  // namespace kstrand::runtime
