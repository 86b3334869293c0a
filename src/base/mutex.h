// A std::mutex the thread-safety analysis knows (base/thread_annotations.h),
// and its scoped lock, which also waits on a std::condition_variable.
//
//   Mutex mu_;
//   int count_ GUARDED_BY(mu_);
//   void Add() EXCLUDES(mu_) {
//     MutexLock lock(mu_);
//     ++count_;
//     cv_.notify_all();
//   }
//   void WaitForOne() EXCLUDES(mu_) {
//     MutexLock lock(mu_);
//     while (count_ == 0) lock.Wait(cv_);  // a loop, not a predicate: the analysis sees the reads under mu_
//   }
//
// Thread safety: as std::mutex.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "base/thread_annotations.h"

namespace kstrand {

class CAPABILITY("mutex") Mutex {
 public:
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }

 private:
  friend class MutexLock;
  std::mutex mu_;
};

class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : lock_(mu.mu_) {}
  ~MutexLock() RELEASE() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // Unlocks for a stretch (a callback that may take the lock again) and locks again.
  void Unlock() RELEASE() { lock_.unlock(); }
  void Lock() ACQUIRE() { lock_.lock(); }

  // The mutex is held again when these return.
  void Wait(std::condition_variable& cv) { cv.wait(lock_); }
  // False if `deadline` passed.
  template <typename Clock, typename Duration>
  bool WaitUntil(std::condition_variable& cv, std::chrono::time_point<Clock, Duration> deadline) {
    return cv.wait_until(lock_, deadline) == std::cv_status::no_timeout;
  }

 private:
  std::unique_lock<std::mutex> lock_;
};

}  // namespace kstrand
