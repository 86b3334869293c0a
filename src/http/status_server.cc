// StatusServer: httplib serving the views of snapshot.h. Every request takes a
// fresh snapshot of the runtimes under mu_, so Remove() returning means no
// request still reads that runtime.
#include "kstrand/status_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <deque>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>

#include "kstrand/http.h"
#include "kafka/client.h"
#include "http/metrics.h"
#include "http/snapshot.h"
#include "http/status_json.h"
#include "kafka/client.h"
#include "kstrand/metrics.h"
#include "group/members.h"

namespace kstrand {
namespace {

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

// httplib turns an escaping exception into a bare 500 (or, built without
// exceptions, terminates); ours answer with the reason and are logged.
httplib::Server::Handler Guarded(const char* route, std::function<void(httplib::Response&)> handle) {
  return [route, handle = std::move(handle)](const httplib::Request&, httplib::Response& res) {
    try {
      handle(res);
    } catch (const std::exception& e) {
      spdlog::error("status server: {} failed: {}", route, e.what());
      res.status = 500;
      res.set_content(std::string("internal error: ") + e.what() + "\n", "text/plain; charset=utf-8");
    } catch (...) {
      spdlog::error("status server: {} failed", route);
      res.status = 500;
      res.set_content("internal error\n", "text/plain; charset=utf-8");
    }
  };
}

}  // namespace

class StatusServer::Impl {
 public:
  Impl() : host_name_(HostName()), pid_(getpid()) {}

  ~Impl() {
    // Stop serving before anything a handler reads goes away. stop() only
    // works once the loop runs; Listen() waited for that.
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  Status Listen(const http::ListenAddress& address) {
    Route();
    auto url = http::Bind(server_, address);
    if (!url.ok()) return url.status();
    url_ = std::move(url.value());
    thread_ = std::thread([this] {
      try {
        server_.listen_after_bind();
      } catch (const std::exception& e) {
        spdlog::error("status server at {} stopped: {}", url_, e.what());
      }
      exited_ = true;
    });
    // Until the accept loop runs, stop() would be a no-op and the destructor
    // would wait forever.
    while (!server_.is_running() && !exited_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (exited_) return Status(Errc::kInternal, "status server at " + url_ + " stopped at once");
    return Status::Ok();
  }

  const std::string& url() const { return url_; }

  void Add(const Runtime& runtime) {
    const RuntimeConfig& config = runtime.config();
    {
      std::lock_guard lock(mu_);
      if (std::find(runtimes_.begin(), runtimes_.end(), &runtime) != runtimes_.end()) return;
      runtimes_.push_back(&runtime);
      if (config.members_topic.empty() || directories_.contains(config.brokers)) return;
      directories_[config.brokers];  // claimed: a concurrent Add for these brokers starts none
    }
    // Outside the lock: starting a consumer must not hold up requests.
    Directory dir;
    auto started = group::MemberDirectory::Start(
        // The members topic lives on the runtime's cluster: same brokers, same credentials.
        kafka::ConnectionProperties(config.brokers, config.kafka, config.name), config.members_topic);
    if (started.ok()) {
      dir.directory = std::move(started.value());
    } else {
      dir.error = "members of other processes are not shown: " + started.status().ToString();
      spdlog::warn("status server: {}", dir.error);
    }
    std::lock_guard lock(mu_);
    directories_[config.brokers] = std::move(dir);
  }

  void Remove(const Runtime& runtime) {
    std::lock_guard lock(mu_);
    if (std::erase(runtimes_, &runtime) == 0) return;
    RuntimeStats stats = runtime.Stats();
    if (stats.recent_rebalances.empty()) return;  // never joined: nothing to show on the timeline
    departed_.push_back({runtime.config().name, runtime.config().group_id, stats.started,
                         std::chrono::system_clock::now(), std::move(stats.recent_rebalances)});
    if (departed_.size() > kMaxDeparted) departed_.pop_front();
  }

 private:
  struct Directory {
    std::shared_ptr<group::MemberDirectory> directory;  // null if it failed or is starting
    std::string error;
  };

  http::Snapshot Capture() {
    http::Snapshot s;
    s.now = std::chrono::system_clock::now();
    s.host = host_name_;
    s.pid = pid_;
    std::shared_ptr<group::MemberDirectory> directory;
    std::string note;
    {
      std::lock_guard lock(mu_);
      for (const Runtime* rt : runtimes_) s.members.push_back(http::Capture(*rt));
      s.departed.assign(departed_.begin(), departed_.end());
      if (!runtimes_.empty()) {
        const RuntimeConfig& first = runtimes_.front()->config();
        s.group.name = first.group_id;
        if (first.members_topic.empty()) {
          note = "members.topic is empty: members of other processes are not shown";
        } else if (auto it = directories_.find(first.brokers); it != directories_.end()) {
          directory = it->second.directory;
          note = it->second.error;
        }
      }
    }
    // The directory has its own lock; reading it outside ours keeps Add and
    // Remove from waiting on it.
    std::vector<group::Announcement> announced;
    if (directory) announced = directory->Members(s.group.name);
    s.group = http::BuildGroupView(s.group.name, s.members, announced, host_name_, pid_);
    s.group.note = std::move(note);
    return s;
  }

  std::vector<http::MemberSnapshot> CaptureMembers() {
    std::lock_guard lock(mu_);
    std::vector<http::MemberSnapshot> out;
    for (const Runtime* rt : runtimes_) out.push_back(http::Capture(*rt));
    return out;
  }

  void Route() {
    constexpr const char* kText = "text/plain; charset=utf-8";
    server_.Get("/", Guarded("/", [this](httplib::Response& res) {
      res.set_header("Cache-Control", "no-store");
      res.set_content(http::RenderDashboard(http::RenderStatus(Capture())), "text/html; charset=utf-8");
    }));
    server_.Get("/status", Guarded("/status", [this](httplib::Response& res) {
      res.set_header("Cache-Control", "no-store");
      res.set_content(http::RenderStatus(Capture()), "application/json");
    }));
    server_.Get("/metrics", Guarded("/metrics", [this](httplib::Response& res) {
      std::lock_guard lock(mu_);  // a runtime stays alive until Remove(), which takes mu_
      res.set_content(RenderPrometheusMetrics(runtimes_), std::string(kPrometheusContentType));
    }));
    server_.Get("/healthz", Guarded("/healthz", [](httplib::Response& res) { res.set_content("ok\n", kText); }));
    server_.Get("/readyz", Guarded("/readyz", [this](httplib::Response& res) {
      std::string reason = http::NotReadyReason(CaptureMembers());
      if (reason.empty()) return res.set_content("ready\n", kText);
      res.status = 503;
      res.set_content("not ready: " + reason + "\n", kText);
    }));
    // httplib answers unknown paths with an empty body; say what exists.
    server_.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (res.status == 404 && res.body.empty()) {
        res.set_content("not found: " + req.path + " (try /, /status, /metrics, /healthz, /readyz)\n", kText);
      }
    });
  }

  const std::string host_name_;
  const int64_t pid_;
  std::string url_;  // set in Listen, before the server thread starts

  std::mutex mu_;
  // Served runtimes in the order added; the first one's group is /status's
  // group. The pointers stay valid until Remove() (the caller's promise).
  std::vector<const Runtime*> runtimes_;
  // One member directory per cluster (brokers string), kept for the server's
  // lifetime: runtimes come and go, their group's announcements stay readable.
  std::map<std::string, Directory> directories_;
  static constexpr size_t kMaxDeparted = 16;
  std::deque<http::DepartedMember> departed_;  // the last kMaxDeparted removed, oldest first

  // ~Impl stops and joins these before any member is destroyed: handlers read
  // everything above.
  http::Server server_;
  std::thread thread_;
  std::atomic<bool> exited_{false};
};

Result<std::unique_ptr<StatusServer>> StatusServer::Start(std::string_view listen) {
  auto address = http::ParseListenAddress(listen);
  if (!address.ok()) return address.status();
  auto impl = std::make_unique<Impl>();
  KSTRAND_RETURN_IF_ERROR(impl->Listen(*address));
  spdlog::debug("status server at {}", impl->url());
  return std::unique_ptr<StatusServer>(new StatusServer(std::move(impl)));
}

StatusServer::StatusServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StatusServer::~StatusServer() = default;

std::string StatusServer::url() const { return impl_->url(); }
void StatusServer::Add(const Runtime& runtime) { impl_->Add(runtime); }
void StatusServer::Remove(const Runtime& runtime) { impl_->Remove(runtime); }

}  // namespace kstrand
