// TopicFollower: reads every partition of a topic from its beginning, without
// joining a group, and hands each record to the owner as it arrives; the one
// way kstrand follows a compacted topic into a map (the member directory, the
// public GlobalTable).
//
// A missing topic is looked for again every second until it appears.
// WaitCaughtUp gives read-your-writes: what was acknowledged before the call
// has been applied when it returns true.
//
// Thread safety: `apply` runs on the follower's own thread, one record at a
// time, never after the destructor returned. WaitCaughtUp from any thread.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "base/mutex.h"
#include "kafka/client.h"
#include "kafka/handles.h"
#include "kafka/reader.h"
#include "kstrand/status.h"

namespace kstrand::kafka {

class TopicFollower {
 public:
  // A record: `value` is nullopt for a tombstone (the key was deleted).
  using Apply = std::function<void(std::string_view key, std::optional<std::string_view> value)>;
  struct Options {
    // Whether WaitCaughtUp succeeds while the topic does not exist (an empty
    // topic), or waits for it to appear.
    bool missing_is_empty = false;
    std::string log_prefix;  // for warnings: what is being read
  };

  // `props`: connection and security; a consumer is built from them, told
  // never to commit. `apply` must outlive the follower.
  static Result<std::unique_ptr<TopicFollower>> Start(Properties props, std::string topic, Apply apply,
                                                      Options options);
  ~TopicFollower();
  TopicFollower(const TopicFollower&) = delete;
  TopicFollower& operator=(const TopicFollower&) = delete;

  // Waits until every record in the topic when this was called has been applied.
  bool WaitCaughtUp(std::chrono::milliseconds timeout) const EXCLUDES(mu_);

 private:
  TopicFollower(std::unique_ptr<Reader> reader, std::string topic, Apply apply, Options options);
  void Run();
  // Assigns every partition from its beginning; false while the topic is missing.
  bool Assign() EXCLUDES(mu_);
  void Read(const rd_kafka_message_t& m) EXCLUDES(mu_);

  const std::unique_ptr<Reader> reader_;
  const std::string topic_;
  const Apply apply_;
  const Options options_;
  std::atomic<bool> stop_{false};
  mutable Mutex mu_;
  mutable std::condition_variable cv_;
  bool looked_up_ GUARDED_BY(mu_) = false;  // assigned (or found missing, if missing_is_empty)
  std::map<int32_t, int64_t> next_offset_ GUARDED_BY(mu_);  // per partition, the next offset to apply
  std::thread thread_;  // last: starts after everything above exists
};

}  // namespace kstrand::kafka
