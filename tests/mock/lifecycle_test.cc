// The Runtime's lifecycle as a library user meets it: Run() returns the final
// status, Stop() from a handler stops instead of deadlocking, a stopped runtime
// does not start again, and completions that arrive after the Runtime is gone
// reach nothing it freed (run under ASan by scripts/test.sh).
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <vector>

#include "harness.h"

namespace kstrand::test {
namespace {

class LifecycleTest : public MockTest {};

TEST_F(LifecycleTest, StopFromAHandlerStopsTheRuntimeInsteadOfDeadlocking) {
  ASSERT_TRUE(cluster_->CreateTopic("self-stop", 1).ok());
  ASSERT_TRUE(ProduceToPartitions(cluster_->bootstrap(), "self-stop", 1, 20).ok());
  std::atomic<Runtime*> self{nullptr};
  std::atomic<bool> stop_returned{false};
  Handler handler = [&](const Message& m) {
    if (m.offset().value() == 3) {
      self.load()->Stop();  // the handler's own worker: only requests the stop
      stop_returned = true;
    }
    return Status::Ok();
  };
  auto rt = MustCreate(BaseConfig(*cluster_, "a", "self-stop-group", "self-stop", handler));
  ASSERT_TRUE(rt);
  self = rt.get();
  ASSERT_TRUE(rt->Start().ok());

  auto waited = std::async(std::launch::async, [&] { return rt->Wait(); });
  ASSERT_EQ(waited.wait_for(20s), std::future_status::ready) << "Stop() from a handler did not stop the runtime";
  EXPECT_TRUE(stop_returned.load());
  Status st = waited.get();
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_FALSE(rt->running());
  StopWithin(*rt, 10s);  // joins what the handler's request left running
}

TEST_F(LifecycleTest, StartAfterStopIsAnErrorSayingToCreateANewRuntime) {
  ASSERT_TRUE(cluster_->CreateTopic("restart", 1).ok());
  auto rt = MustCreate(BaseConfig(*cluster_, "a", "restart-group", "restart",
                                  [](const Message&) { return Status::Ok(); }));
  ASSERT_TRUE(rt);
  ASSERT_TRUE(rt->Start().ok());
  StopWithin(*rt);
  Status again = rt->Start();
  EXPECT_EQ(again.code(), make_error_code(Errc::kInvalidArgument)) << again.ToString();
  EXPECT_NE(again.detail().find("create a new one"), std::string::npos) << again.detail();
  EXPECT_FALSE(rt->running());
}

TEST_F(LifecycleTest, RunReturnsTheFailureThatStoppedTheRuntime) {
  ASSERT_TRUE(cluster_->CreateTopic("run-fail", 1).ok());
  ASSERT_TRUE(ProduceToPartitions(cluster_->bootstrap(), "run-fail", 1, 10).ok());
  RuntimeConfig c = BaseConfig(*cluster_, "a", "run-fail-group", "run-fail", [](const Message& m) {
    return m.offset().value() == 4 ? Status(Errc::kPermanentFailure, "bad record") : Status::Ok();
  });
  c.topics[0].on_failure = {.max_attempts = 3, .then = FailureAction::kStopRuntime};
  auto rt = MustCreate(std::move(c));
  ASSERT_TRUE(rt);
  auto ran = std::async(std::launch::async, [&] { return rt->Run(/*stop_on_signals=*/false); });
  ASSERT_EQ(ran.wait_for(30s), std::future_status::ready) << "Run() did not return after the failure";
  Status st = ran.get();
  EXPECT_EQ(st.code(), make_error_code(Errc::kHandlerFailed)) << st.ToString();
  EXPECT_NE(st.detail().find("run-fail[0] offset 4"), std::string::npos) << st.detail();
  EXPECT_NE(st.detail().find("bad record"), std::string::npos) << st.detail();
}

TEST_F(LifecycleTest, RunReturnsOkOnceStoppedFromAnotherThread) {
  ASSERT_TRUE(cluster_->CreateTopic("run-ok", 2).ok());
  ASSERT_TRUE(ProduceToPartitions(cluster_->bootstrap(), "run-ok", 2, 10).ok());
  std::atomic<int> processed{0};
  auto rt = MustCreate(BaseConfig(*cluster_, "a", "run-ok-group", "run-ok", [&](const Message&) {
    processed++;
    return Status::Ok();
  }));
  ASSERT_TRUE(rt);
  auto ran = std::async(std::launch::async, [&] { return rt->Run(/*stop_on_signals=*/false); });
  ASSERT_TRUE(WaitUntil([&] { return processed.load() == 20; }, 30s)) << "processed " << processed.load();
  StopWithin(*rt);
  ASSERT_EQ(ran.wait_for(10s), std::future_status::ready);
  Status st = ran.get();
  EXPECT_TRUE(st.ok()) << st.ToString();
  auto committed = OffsetReader::Create(cluster_->bootstrap(), "run-ok-group")->Committed("run-ok", 2);
  EXPECT_EQ(committed, (std::map<int32_t, int64_t>{{0, 10}, {1, 10}}));
}

// The broker gone for good (the embedded cluster destroyed: its ports refuse
// connections): Stop(2s) returns within the drain bound plus the 5 s margin
// (runtime.cc, kShutdownMargin), and Wait() names the partitions whose
// progress could not be committed. Before: ~45 s in the final commit and the
// group leave, waiting for the coordinator, then 10 s per producer flush.
TEST_F(LifecycleTest, StopWithTheBrokerGoneReturnsWithinItsBoundAndSaysWhatWasNotCommitted) {
  ASSERT_TRUE(cluster_->CreateTopic("gone", 2).ok());
  ASSERT_TRUE(ProduceToPartitions(cluster_->bootstrap(), "gone", 2, 10).ok());
  std::atomic<int> processed{0};
  RuntimeConfig c = BaseConfig(*cluster_, "a", "gone-group", "gone", [&](const Message&) {
    processed++;
    return Status::Ok();
  });
  c.commit_interval = 1h;  // nothing committed before the broker goes
  auto rt = MustCreate(std::move(c));
  ASSERT_TRUE(rt);
  ASSERT_TRUE(rt->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return processed.load() == 20; }, 30s)) << "processed " << processed.load();
  cluster_.reset();
  std::this_thread::sleep_for(500ms);

  const auto start = std::chrono::steady_clock::now();
  rt->Stop(2s);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, 2s + 5s + 1s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  Status st = rt->Wait();
  EXPECT_EQ(st.code(), make_error_code(Errc::kTimedOut)) << st.ToString();
  EXPECT_NE(st.detail().find("the final commit did not complete (gone["), std::string::npos) << st.detail();
  EXPECT_NE(st.detail().find("processed up to offset 10"), std::string::npos) << st.detail();
  EXPECT_EQ(rt->Stats().processed, 20u);
}

// Async handlers that never complete before the runtime is destroyed, then
// fail: the late completions reach their lanes, which share what they need
// (handler spec, env, consumer) instead of pointing into the freed Runtime.
// Before the lanes shared their TopicHandler, at-most-once (whose drain does
// not halt the lane) read the freed failure policy: heap-use-after-free.
class LateCompletionTest : public MockTest, public ::testing::WithParamInterface<Delivery> {};

TEST_P(LateCompletionTest, FailingCompletionsAfterTheRuntimeIsGoneAreDroppedUncommitted) {
  constexpr int kPerPartition = 10;
  ASSERT_TRUE(cluster_->CreateTopic("late", 2).ok());
  ASSERT_TRUE(cluster_->CreateTopic("late-dlq", 1).ok());
  ASSERT_TRUE(ProduceToPartitions(cluster_->bootstrap(), "late", 2, kPerPartition).ok());
  std::mutex mu;
  std::vector<Completion> pending;  // guarded by mu
  RuntimeConfig c = BaseConfig(*cluster_, "a", "late-group", "late", nullptr);
  c.topics[0].handler = nullptr;
  c.topics[0].async_handler = [&](const Message&, Completion done) {
    std::lock_guard lock(mu);
    pending.push_back(std::move(done));
  };
  c.topics[0].ordering = Ordering::kUnordered;
  c.topics[0].on_failure = {.max_attempts = 2, .backoff = 1ms, .then = FailureAction::kDeadLetter,
                            .dead_letter_topic = "late-dlq"};
  c.delivery = GetParam();
  c.shutdown_timeout = 300ms;
  auto rt = MustCreate(std::move(c));
  ASSERT_TRUE(rt);
  ASSERT_TRUE(rt->Start().ok());
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::lock_guard lock(mu);
        return pending.size() == 2 * kPerPartition;
      },
      30s));

  StopWithin(*rt, 20s);
  Status st = rt->Wait();
  EXPECT_EQ(st.code(), make_error_code(Errc::kTimedOut)) << st.ToString();
  rt.reset();  // the Runtime is gone; its lanes live on in the completions

  std::vector<Completion> late;
  {
    std::lock_guard lock(mu);
    late.swap(pending);
  }
  for (auto& done : late) done(Status(Errc::kHandlerFailed, "answered after the runtime was gone"));
  late.clear();

  // Nothing was done, so nothing was dead-lettered or committed past what the
  // delivery mode commits before processing.
  EXPECT_TRUE(ReadTopic(cluster_->bootstrap(), "late-dlq", 1, 1, 2s).empty());
  auto committed = OffsetReader::Create(cluster_->bootstrap(), "late-group")->Committed("late", 2);
  ASSERT_EQ(committed.size(), 2u);
  for (const auto& [partition, offset] : committed) {
    if (GetParam() == Delivery::kAtMostOnce) {
      EXPECT_EQ(offset, kPerPartition) << "partition " << partition;  // committed before processing
    } else {
      EXPECT_LE(offset, 0) << "partition " << partition;  // nothing completed
    }
  }
}

INSTANTIATE_TEST_SUITE_P(, LateCompletionTest, ::testing::Values(Delivery::kAtLeastOnce, Delivery::kAtMostOnce),
                         [](const auto& info) {
                           return info.param == Delivery::kAtMostOnce ? "AtMostOnce" : "AtLeastOnce";
                         });

}  // namespace
}  // namespace kstrand::test
