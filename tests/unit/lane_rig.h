// Test scaffolding for lanes: a LaneEnv for the lanes it makes, and a
// one-shot Gate threads can wait on.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "runtime/lane.h"

namespace kstrand::runtime {

using namespace std::chrono_literals;

// A one-shot flag threads can wait on, with a bound so a broken lane fails the
// test instead of hanging it.
class Gate {
 public:
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool Wait(std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Declare before the lanes it makes: it closes the env (joining its threads)
// after they are gone.
class Rig {
 public:
  explicit Rig(size_t workers, LaneLimits limits = {}, std::function<void()> on_room = {},
               size_t max_in_flight = 1000)
      : env_(std::make_shared<LaneEnv>(workers, max_in_flight, limits, std::move(on_room))) {}
  ~Rig() { env_->Close(); }

  std::shared_ptr<Lane> MakeLane(int32_t partition, TopicHandler spec, std::vector<int64_t> already_done = {}) {
    spec.topic = "t";
    return std::make_shared<Lane>(TopicPartition{"t", Partition(partition)}, Generation(next_generation_++),
                                  std::make_shared<const TopicHandler>(std::move(spec)), env_,
                                  std::move(already_done));
  }
  std::shared_ptr<Lane> MakeLane(int32_t partition, Handler handler) {
    TopicHandler spec;
    spec.handler = std::move(handler);
    return MakeLane(partition, std::move(spec));
  }
  LaneEnv& env() { return *env_; }

 private:
  std::shared_ptr<LaneEnv> env_;
  int64_t next_generation_ = 1;
};

inline Message Msg(int32_t partition, int64_t offset, std::string value = "v",
                   std::optional<std::string> key = "k") {
  return Message::Make("t", Partition(partition), Offset(offset), std::move(key), std::move(value));
}

inline int64_t CommitOffset(const Lane& lane) {
  auto c = lane.Committable();
  return c ? c->offset : -1;
}

inline std::chrono::steady_clock::time_point In(std::chrono::milliseconds d) {
  return std::chrono::steady_clock::now() + d;
}

}  // namespace kstrand::runtime
