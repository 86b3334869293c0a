#include "group/members.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>

#include "base/mutex.h"
#include "kafka/topic_follower.h"

namespace kstrand::group {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

}  // namespace

class MemberDirectory::Impl {
 public:
  std::vector<Announcement> Members(std::string_view group) const EXCLUDES(mu_) {
    const auto now = system_clock::now();
    std::vector<Announcement> out;
    {
      MutexLock lock(mu_);
      for (const auto& [instance, a] : records_) {
        if ((group.empty() || a.group == group) && IsLive(a, now)) out.push_back(a);
      }
    }
    std::sort(out.begin(), out.end(), [](const Announcement& x, const Announcement& y) {
      return std::tie(x.group, x.member, x.instance) < std::tie(y.group, y.member, y.instance);
    });
    return out;
  }

  // The follower's thread: one record of the members topic.
  void Apply(std::string_view instance, std::optional<std::string_view> record) EXCLUDES(mu_) {
    if (!record) {
      MutexLock lock(mu_);
      records_.erase(std::string(instance));  // the member left
      return;
    }
    auto a = DecodeAnnouncement(*record);
    if (!a.ok()) {
      spdlog::debug("members: {}: {}", instance, a.status().ToString());
      return;
    }
    MutexLock lock(mu_);
    records_[std::string(instance)] = std::move(a.value());
  }

  mutable Mutex mu_;
  std::map<std::string, Announcement> records_ GUARDED_BY(mu_);  // the latest record per instance
  // Set once, after construction; last, so it stops calling Apply before the above go.
  std::unique_ptr<kafka::TopicFollower> follower;
};

Result<std::unique_ptr<MemberDirectory>> MemberDirectory::Start(kafka::Properties props, std::string topic) {
  if (topic.empty()) return Status(Errc::kInvalidArgument, "members topic: empty");
  auto impl = std::make_unique<Impl>();
  // A missing topic: no member has announced itself yet.
  auto follower = kafka::TopicFollower::Start(
      std::move(props), std::move(topic),
      [impl = impl.get()](std::string_view key, std::optional<std::string_view> value) { impl->Apply(key, value); },
      {.missing_is_empty = true, .log_prefix = "members"});
  if (!follower.ok()) return follower.status();
  impl->follower = std::move(follower.value());
  return std::unique_ptr<MemberDirectory>(new MemberDirectory(std::move(impl)));
}

MemberDirectory::MemberDirectory(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MemberDirectory::~MemberDirectory() = default;

std::vector<Announcement> MemberDirectory::Members(std::string_view group) const { return impl_->Members(group); }

std::vector<std::string> MemberDirectory::Groups() const {
  std::vector<std::string> groups;
  for (const auto& a : impl_->Members({})) groups.push_back(a.group);
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());  // Members() sorts by group
  return groups;
}

bool MemberDirectory::WaitCaughtUp(milliseconds timeout) const { return impl_->follower->WaitCaughtUp(timeout); }

}  // namespace kstrand::group
