#include "runtime/lane.h"

#include <spdlog/spdlog.h>

#include <vector>

namespace kstrand::runtime {

Status InvokeHandler(const Handler& handler, const Message& message) {
  try {
    return handler(message);
  } catch (const std::exception& e) {
    return Status(Errc::kHandlerFailed, std::string("handler threw: ") + e.what());
  } catch (...) {
    return Status(Errc::kHandlerFailed, "handler threw a non-standard exception");
  }
}

Lane::Lane(TopicPartition tp, Generation generation, const Handler& handler, WorkerPool& pool, LaneLimits limits,
           std::function<void()> on_room)
    : tp_(std::move(tp)),
      generation_(generation),
      handler_(handler),
      pool_(pool),
      limits_(limits),
      on_room_(std::move(on_room)) {}

bool Lane::Push(Message message) {
  std::vector<Message> one;
  one.push_back(std::move(message));
  return Push(one);
}

bool Lane::Push(std::vector<Message>& messages) {
  bool schedule = false;
  {
    std::lock_guard lock(mu_);
    if (revoked_.load() || stopped_.load()) {
      messages.clear();
      return false;
    }
    for (Message& m : messages) {
      frontier_.Track(m.offset().value());
      buffered_bytes_ += m.size();
      buffered_.push_back(std::move(m));
    }
    if (!scheduled_ && !buffered_.empty()) scheduled_ = schedule = true;
  }
  messages.clear();
  if (schedule) pool_.Schedule(shared_from_this());
  return true;
}

bool Lane::TryPause() {
  std::lock_guard lock(mu_);
  if (paused_.load()) return false;
  if (!stopped_.load() && !FullLocked()) return false;
  paused_.store(true);
  return true;
}

bool Lane::Full() const {
  std::lock_guard lock(mu_);
  return FullLocked();
}

bool Lane::FullLocked() const {
  return buffered_.size() >= limits_.max_messages || buffered_bytes_ >= limits_.max_bytes;
}

bool Lane::HasRoom() const {
  std::lock_guard lock(mu_);
  return buffered_.size() <= limits_.max_messages / 2 && buffered_bytes_ <= limits_.max_bytes / 2;
}

void Lane::Revoke(bool drop_buffered) {
  std::lock_guard lock(mu_);
  drop_buffered_ = drop_buffered;
  revoked_ = true;
  if (drop_buffered) {
    buffered_.clear();  // their offsets stay pending: the frontier stops at the first of them
    buffered_bytes_ = 0;
  }
}

bool Lane::WaitIdle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_until(lock, deadline, [&] {
    return in_flight_ == 0 && (drop_buffered_.load() || stopped_.load() || buffered_.empty());
  });
}

std::optional<int64_t> Lane::Committable() const {
  std::lock_guard lock(mu_);
  return frontier_.Committable();
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
  s.processed = processed_.load();
  s.failed = failed_.load();
  s.paused = paused_.load();
  s.stopped = stopped_.load();
  std::lock_guard lock(mu_);
  s.frontier = frontier_.Committable().value_or(-1);
  s.buffered = buffered_.size();
  s.in_flight = in_flight_;
  return s;
}

bool Lane::RunSome() {
  // slice_ and done_offsets_ belong to the one worker running this lane: a lane
  // is scheduled at most once at a time, until scheduled_ is cleared below.
  bool wake_poller = false;
  {
    std::lock_guard lock(mu_);
    size_t n = std::min(kSlice, buffered_.size());
    for (size_t i = 0; i < n; ++i) {
      buffered_bytes_ -= buffered_.front().size();
      slice_.push_back(std::move(buffered_.front()));
      buffered_.pop_front();
    }
    in_flight_ = n;
    wake_poller = paused_.load() && !stopped_.load() && buffered_.size() <= limits_.max_messages / 2 &&
                  buffered_bytes_ <= limits_.max_bytes / 2;
  }
  if (wake_poller && on_room_) on_room_();

  std::optional<Status> failure;
  int64_t failed_offset = -1;
  for (const Message& m : slice_) {
    // A revoked partition stops between messages; the rest stay uncommitted.
    if (revoked_.load() && drop_buffered_.load()) break;
    Status st = InvokeHandler(handler_, m);
    if (!st.ok()) {
      failure = std::move(st);
      failed_offset = m.offset().value();
      break;
    }
    done_offsets_.push_back(m.offset().value());
  }
  slice_.clear();  // frees the messages outside the lock

  std::lock_guard lock(mu_);
  for (int64_t offset : done_offsets_) frontier_.Complete(offset);
  processed_.fetch_add(done_offsets_.size());
  done_offsets_.clear();
  if (failure) {
    // The failed message is never completed, so the frontier can never pass it.
    stopped_ = true;
    failed_.fetch_add(1);
    buffered_.clear();
    buffered_bytes_ = 0;
    spdlog::error("{} offset {}: {}; partition stopped, offset not committed", tp_.ToString(), failed_offset,
                  failure->ToString());
  }
  in_flight_ = 0;
  bool more = !buffered_.empty() && !stopped_.load() && !(revoked_.load() && drop_buffered_.load());
  if (!more) scheduled_ = false;
  idle_cv_.notify_all();
  return more;
}

}  // namespace kstrand::runtime
