#include "runtime/lane.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>

#include "kafka/lag.h"
#include "runtime/offset_metadata.h"
#include "runtime/sub_lane.h"

namespace kstrand::runtime {

using Clock = std::chrono::steady_clock;

// ---- LaneEnv ----

LaneEnv::LaneEnv(size_t workers, size_t max_in_flight, LaneLimits l, std::function<void()> wake_poller)
    : limits(l), wake_poller_(std::move(wake_poller)), pool_(workers), in_flight_(max_in_flight, pool_) {}

LaneEnv::~LaneEnv() { Close(); }

void LaneEnv::WakePoller() {
  MutexLock lock(mu_);
  if (!closed_ && wake_poller_) wake_poller_();
}

void LaneEnv::RequestStop(Status why) {
  MutexLock lock(mu_);
  if (closed_) return;
  if (!stop_request_) stop_request_ = std::move(why);
  if (wake_poller_) wake_poller_();
}

std::optional<Status> LaneEnv::stop_request() const {
  MutexLock lock(mu_);
  return stop_request_;
}

size_t LaneEnv::Close(std::chrono::steady_clock::time_point deadline, int flush_ms) {
  {
    MutexLock lock(mu_);
    closed_ = true;
  }
  timers_.Stop();
  const size_t left_running = pool_.Stop(deadline);
  in_flight_.DropWaiters();
  // Deliver what is under way, then stop the producer here: its delivery
  // callbacks hold lanes, and so this env, and must not be what destroys it
  // (on the producer's own thread).
  if (output) output->Close(flush_ms);
  return left_running;
}

// ---- Lane ----

Lane::Lane(TopicPartition tp, Generation generation, std::shared_ptr<const TopicHandler> spec,
           std::shared_ptr<LaneEnv> env, std::vector<int64_t> already_done)
    : tp_(std::move(tp)),
      generation_(generation),
      spec_(std::move(spec)),
      env_(std::move(env)),
      already_done_(std::move(already_done)) {}

Lane::~Lane() = default;

void Lane::After(const std::shared_ptr<Lane>& predecessor) {
  MutexLock plock(predecessor->mu_);  // lock order: predecessor before successor
  if (predecessor->in_flight_ == 0) return;
  {
    MutexLock lock(mu_);
    predecessor_ = predecessor;
    ++holds_;
  }
  predecessor->on_idle_ = [weak = weak_from_this()] {
    if (auto successor = weak.lock()) successor->Release(/*predecessor_idle=*/true);
  };
}

void Lane::Hold() {
  MutexLock lock(mu_);
  ++holds_;
}

void Lane::Release(bool predecessor_idle) {
  std::vector<std::shared_ptr<Task>> held;
  {
    MutexLock lock(mu_);
    if (predecessor_idle) predecessor_.reset();
    if (--holds_ > 0) return;
    held.swap(held_);
  }
  env_->pool().ScheduleMany(held);
}

SubLane* Lane::NewSubLaneLocked(std::string key) {
  auto sub = std::make_shared<SubLane>(shared_from_this(), std::move(key));
  SubLane* raw = sub.get();
  raw->OnLaneOf(this);
  raw->SetLiveSlotLocked(live_.size());
  live_.push_back(std::move(sub));
  return raw;
}

SubLane* Lane::SubLaneFor(const Message& m) {
  switch (spec_->ordering) {
    case Ordering::kPartition:
      if (!partition_lane_) partition_lane_ = NewSubLaneLocked("");
      return partition_lane_;
    case Ordering::kKey: {
      auto key = m.key();
      if (!key) {
        if (!null_key_lane_) null_key_lane_ = NewSubLaneLocked("");
        return null_key_lane_;
      }
      auto it = key_lanes_.find(*key);
      if (it != key_lanes_.end()) return it->second;
      SubLane* sub = NewSubLaneLocked(std::string(*key));
      key_lanes_.emplace(sub->key(), sub);  // a view of the sub-lane's own copy
      return sub;
    }
    case Ordering::kUnordered:
      return NewSubLaneLocked("");
  }
  return nullptr;
}

void Lane::ForgetLocked(SubLane* sub) {
  if (partition_lane_ == sub) {
    partition_lane_ = nullptr;
  } else if (null_key_lane_ == sub) {
    null_key_lane_ = nullptr;
  } else if (spec_->ordering == Ordering::kKey) {
    auto it = key_lanes_.find(sub->key());
    if (it != key_lanes_.end() && it->second == sub) key_lanes_.erase(it);
  }
  NotifyIdleLocked();
  // Out of live_ by moving the last one into its slot. A sub-lane may be
  // forgotten twice (dropped by a halt, then run by the pool that still held it).
  sub->OnLaneOf(this);
  const size_t slot = sub->LiveSlotLocked();
  if (slot >= live_.size() || live_[slot].get() != sub) return;
  std::shared_ptr<SubLane> owner = std::move(live_[slot]);
  if (slot + 1 < live_.size()) {
    live_[slot] = std::move(live_.back());
    live_[slot]->OnLaneOf(this);
    live_[slot]->SetLiveSlotLocked(slot);
  }
  live_.pop_back();
  owner.reset();  // may destroy `sub`: last
}

void Lane::NotifyIdleLocked() {
  idle_cv_.notify_all();
  if (on_idle_ && in_flight_ == 0 && HaltedLocked()) {
    auto wake_successor = std::move(on_idle_);
    on_idle_ = nullptr;
    wake_successor();
  }
}

bool Lane::Push(Message message) {
  std::vector<Message> one;
  one.push_back(std::move(message));
  return Push(one);
}

bool Lane::Push(std::vector<Message>& messages) {
  std::vector<std::shared_ptr<Task>> schedule;
  {
    MutexLock lock(mu_);
    if (state() != LaneState::kActive) {
      messages.clear();
      return false;
    }
    for (Message& m : messages) {
      const int64_t offset = m.offset().value();
      frontier_.Track(offset);
      // Completed by a previous owner (commit metadata): skip it.
      while (already_done_next_ < already_done_.size() && already_done_[already_done_next_] < offset) {
        ++already_done_next_;
      }
      if (already_done_next_ < already_done_.size() && already_done_[already_done_next_] == offset) {
        frontier_.Complete(offset);
        continue;
      }
      SubLane* sub = SubLaneFor(m);
      sub->OnLaneOf(this);
      buffered_bytes_ += m.size();
      ++buffered_;
      if (sub->EnqueueLocked(std::move(m))) (holds_ > 0 ? held_ : schedule).push_back(sub->shared_from_this());
    }
  }
  messages.clear();
  env_->pool().ScheduleMany(schedule);
  return true;
}

bool Lane::TryPause() {
  MutexLock lock(mu_);
  if (paused_.load()) return false;
  if (!stopped() && !FullLocked()) return false;
  paused_.store(true);
  return true;
}

bool Lane::Full() const {
  MutexLock lock(mu_);
  return FullLocked();
}

bool Lane::FullLocked() const {
  return buffered_ >= env_->limits.max_messages || buffered_bytes_ >= env_->limits.max_bytes ||
         frontier_.span() >= static_cast<int64_t>(env_->limits.max_ahead);
}

bool Lane::HasRoom() const {
  MutexLock lock(mu_);
  return HasRoomLocked();
}

bool Lane::HasRoomLocked() const {
  const LaneLimits& l = env_->limits;
  return buffered_ <= l.max_messages / 2 && buffered_bytes_ <= l.max_bytes / 2 &&
         frontier_.span() <= static_cast<int64_t>(l.max_ahead / 2);
}

void Lane::DropQueuedLocked() {
  // A sub-lane drops itself from live_ when nobody runs it: iterate a copy.
  std::vector<SubLane*> subs;
  subs.reserve(live_.size());
  for (auto& sub : live_) subs.push_back(sub.get());
  held_.clear();
  for (SubLane* sub : subs) {
    sub->OnLaneOf(this);
    sub->HaltLocked();
  }
}

void Lane::MoveTo(LaneState next) {
  const LaneState was = state();
  assert(next >= was);  // every transition moves down the list
  state_.store(next);
  // Queued messages stay pending: the frontier stops at the first of them.
  if (Halted(next) && !Halted(was)) DropQueuedLocked();
  NotifyIdleLocked();
}

void Lane::Revoke(bool drop_buffered) {
  // Handlers told first, outside the lock: a stop_callback runs here, on this thread.
  stop_.request_stop();
  MutexLock lock(mu_);
  switch (state()) {
    case LaneState::kActive:
    case LaneState::kDraining:
      MoveTo(drop_buffered ? LaneState::kDropping : LaneState::kDraining);
      break;
    case LaneState::kStopped:
      MoveTo(LaneState::kDropping);
      break;
    case LaneState::kDropping:
    case LaneState::kRetired:
      break;
  }
}

void Lane::Retire() {
  stop_.request_stop();
  MutexLock lock(mu_);
  MoveTo(LaneState::kRetired);
}

void Lane::StopLocked() {
  if (state() == LaneState::kActive) MoveTo(LaneState::kStopped);
  else if (state() == LaneState::kDraining) MoveTo(LaneState::kDropping);
}

bool Lane::TookLocked(size_t n, size_t bytes) {
  buffered_ -= n;
  buffered_bytes_ -= bytes;
  in_flight_ += n;
  return RoomAgainLocked();
}

void Lane::CompletedLocked(std::span<const Message> done) {
  for (const Message& m : done) frontier_.Complete(m.offset().value());
  in_flight_ -= done.size();
  // The frontier moved: a partition paused at max.ahead may have room again.
  if (!done.empty() && RoomAgainLocked()) env_->WakePoller();
}

void Lane::DroppedLocked(size_t running, size_t queued, size_t bytes) {
  in_flight_ -= running;
  buffered_ -= queued;
  buffered_bytes_ -= bytes;
}

bool Lane::RoomAgainLocked() const { return paused_.load() && !stopped() && HasRoomLocked(); }

bool Lane::WaitIdle(Clock::time_point deadline) {
  MutexLock lock(mu_);
  while (!(in_flight_ == 0 && (HaltedLocked() || buffered_ == 0))) {
    if (!lock.WaitUntil(idle_cv_, deadline)) return in_flight_ == 0 && (HaltedLocked() || buffered_ == 0);
  }
  return true;
}

bool Lane::Idle() const {
  MutexLock lock(mu_);
  return in_flight_ == 0 && (HaltedLocked() || buffered_ == 0);
}

std::optional<Lane::Commit> Lane::Committable() const {
  std::optional<int64_t> offset;
  std::vector<int64_t> above;
  {
    MutexLock lock(mu_);
    offset = frontier_.Committable();
    if (!offset) return std::nullopt;
    above = frontier_.CompletedAbove();
  }
  return Commit{*offset, EncodeCompletions(*offset, above)};
}

void Lane::Committed(int64_t offset) {
  int64_t prev = committed_.load();
  while (offset > prev && !committed_.compare_exchange_weak(prev, offset)) {
  }
}

PartitionStats Lane::Snapshot() const {
  PartitionStats s;
  s.partition = tp_;
  s.generation = generation_;
  s.assigned_since = assigned_since_;
  s.committed = committed_.load();
  s.processed = counters_.processed.load();
  s.failed = counters_.failed.load();
  s.retried = counters_.retried.load();
  s.dead_lettered = counters_.dead_lettered.load();
  s.skipped = counters_.skipped.load();
  s.paused = paused_.load();
  s.stopped = stopped();
  s.latency = counters_.latency.Snapshot();
  s.end_offset = high_watermark_.load();
  {
    MutexLock lock(mu_);
    s.frontier = frontier_.Committable().value_or(-1);
    s.queued = buffered_;
    s.in_flight = in_flight_;
  }
  // Lag as kafka-consumer-groups reports it: from the committed offset; before
  // the first commit, from where consumption starts.
  const int64_t from = s.committed >= 0 ? s.committed : s.frontier >= 0 ? s.frontier : low_watermark_.load();
  s.lag = kafka::Lag(s.end_offset, from);
  return s;
}

}  // namespace kstrand::runtime
