// ValidateTopics (settings.h): the rules a RuntimeConfig's topics follow.
// Apart from config.cc, which the fuzz targets build alone: these rules need
// the stores' implementation (Store::name).
#include <algorithm>

#include "kstrand/state.h"
#include "runtime/settings.h"

namespace kstrand {

Status ValidateTopics(const RuntimeConfig& config) {
  if (config.group_id.empty()) return Status(Errc::kInvalidArgument, "group id: empty");
  if (config.topics.empty()) return Status(Errc::kInvalidArgument, "no topics to consume");
  for (const auto& t : config.topics) {
    if (t.topic.empty()) return Status(Errc::kInvalidArgument, "topics: empty topic name");
    const std::string where = "topic " + t.topic + ": ";
    int kinds = bool(t.handler) + bool(t.async_handler) + bool(t.batch_handler) + bool(t.table);
    if (kinds != 1) {
      return Status(Errc::kInvalidArgument, where + (kinds == 0 ? "no handler" : "more than one handler; set one"));
    }
    for (const auto& store : t.stores) {
      if (!store) return Status(Errc::kInvalidArgument, where + "a null store");
      if (t.table) return Status(Errc::kInvalidArgument, where + "a table cannot have stores (no handler writes them)");
      for (const auto& other : config.topics) {
        if (&other != &t && std::count(other.stores.begin(), other.stores.end(), store)) {
          return Status(Errc::kInvalidArgument, where + "store " + store->name() + " is used by topic " +
                                                    other.topic + " too; a store follows one topic's partitions");
        }
      }
    }
    if (t.batch_handler && t.ordering == Ordering::kUnordered) {
      return Status(Errc::kInvalidArgument, where + "a batch handler needs partition or key ordering");
    }
    const FailurePolicy& f = t.on_failure;
    if (f.max_attempts < 1) return Status(Errc::kInvalidArgument, where + "max_attempts must be at least 1");
    if (f.backoff.count() < 0 || f.max_backoff < f.backoff) {
      return Status(Errc::kInvalidArgument, where + "backoff must be >= 0 and max_backoff >= backoff");
    }
    if (f.then == FailureAction::kDeadLetter && f.dead_letter_topic.empty()) {
      return Status(Errc::kInvalidArgument, where + "dead-letter policy without a dead_letter_topic");
    }
    if (f.dead_letter_topic == t.topic) {
      return Status(Errc::kInvalidArgument, where + "the dead-letter topic cannot be the topic itself");
    }
    if (std::count_if(config.topics.begin(), config.topics.end(), [&](const auto& o) { return o.topic == t.topic; }) > 1) {
      return Status(Errc::kInvalidArgument, "topic " + t.topic + ": given twice");
    }
  }
  return Status::Ok();
}

}  // namespace kstrand
