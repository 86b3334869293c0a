// The users API (examples/users-api) on the embedded broker: three instances
// answer every user from every instance, survive a stopped instance without a
// wrong 404, keep the last of concurrent writes, and a RocksDB instance
// restarted replays only the records it had not applied.
#include <httplib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <atomic>
#include <numeric>
#include <random>
#include <set>
#include <thread>

#include "harness.h"
#include "kafka/client.h"
#include "kafka/producer.h"
#include "users-api/users_app.h"

namespace kstrand::test {
namespace {

using nlohmann::json;
using users::UsersApp;

constexpr int kPartitions = 6;

struct Reply {
  int status = 0;
  std::string body;
  std::string offset;  // Kstrand-Offset of a write: "<partition>:<offset>"
};

Reply Send(const std::string& url, const std::string& method, const std::string& path, const std::string& body = "") {
  httplib::Client client(url);
  client.set_read_timeout(10, 0);
  client.set_tcp_nodelay(true);
  httplib::Result res = method == "GET"    ? client.Get(path)
                        : method == "POST" ? client.Post(path, body, "application/json")
                        : method == "PUT"  ? client.Put(path, body, "application/json")
                                           : client.Delete(path);
  if (!res) return {};
  return {res->status, res->body, res->get_header_value("Kstrand-Offset")};
}

// Repeats a request while it answers 503 (a partition moving or restoring),
// up to `limit`; 404 is never retried, so a wrong 404 fails the test.
Reply SendSettled(const std::string& url, const std::string& method, const std::string& path,
                  const std::string& body = "", std::chrono::milliseconds limit = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    Reply r = Send(url, method, path, body);
    if (r.status != 503 || std::chrono::steady_clock::now() > deadline) return r;
    std::this_thread::sleep_for(100ms);
  }
}

class UsersApiTest : public MockTest {
 protected:
  void SetUp() override {
    MockTest::SetUp();
    ASSERT_TRUE(cluster_->CreateTopic("users", kPartitions).ok());
  }

  std::unique_ptr<UsersApp> Start(const std::string& name, StateConfig state = {}) {
    users::UsersAppConfig config;
    config.name = name;
    config.brokers = cluster_->bootstrap();
    config.kafka = EmbeddedCluster::ClientProperties();
    config.state = std::move(state);
    auto app = UsersApp::Start(config);
    EXPECT_TRUE(app.ok()) << app.status().ToString();
    return app.ok() ? std::move(app.value()) : nullptr;
  }

  // True once every app owns partitions, every partition is ready on exactly
  // one of `apps`, and every app routes every partition to that owner.
  static bool Settled(const std::vector<UsersApp*>& apps) {
    std::map<int32_t, std::string> ready;
    for (auto* app : apps) {
      const auto stats = app->table().Stats();
      if (stats.empty()) return false;
      for (const auto& p : stats) {
        if (p.availability != Availability::kReady || !ready.emplace(p.partition.value(), app->url()).second) return false;
      }
    }
    if (ready.size() != kPartitions) return false;
    for (auto* app : apps) {
      auto owners = json::parse(Send(app->url(), "GET", "/owners").body, nullptr, false);
      if (!owners.is_object()) return false;
      for (const auto& [p, url] : ready) {
        if (owners["owners"].value(std::to_string(p), "") != url) return false;
      }
    }
    return true;
  }

  // Creates `n` users through instances picked at random; id -> body.
  static std::map<std::string, json> CreateUsers(const std::vector<UsersApp*>& apps, int n) {
    std::mt19937 random(42);
    std::map<std::string, json> created;
    for (int i = 0; i < n; ++i) {
      Reply r = SendSettled(apps[random() % apps.size()]->url(), "POST", "/users", NewUser(i));
      EXPECT_EQ(r.status, 201) << r.body;
      if (r.status != 201) break;
      auto body = json::parse(r.body);
      created[body["id"]] = body;
    }
    return created;
  }

  static std::filesystem::path ScratchDir() {
    return std::filesystem::temp_directory_path() /
           ("kstrand-users-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
  }

  // An instance that owns every partition, ready (nullptr if it did not settle).
  std::unique_ptr<UsersApp> StartSettled(const std::string& name, StateConfig state) {
    auto app = Start(name, std::move(state));
    if (app && !WaitUntil([&] { return Settled({app.get()}); }, 60s)) return nullptr;
    return app;
  }

  // Posts `n` new users to `app`; their ids, in order (fewer if a post failed).
  static std::vector<std::string> PostUsers(const UsersApp& app, int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      Reply r = SendSettled(app.url(), "POST", "/users", NewUser(i));
      EXPECT_EQ(r.status, 201) << r.body;
      if (r.status != 201) break;
      ids.push_back(json::parse(r.body)["id"]);
    }
    return ids;
  }

  static std::string NewUser(int i) {
    return json{{"name", "user " + std::to_string(i)}, {"email", "user" + std::to_string(i) + "@example.com"}}.dump();
  }
};

TEST_F(UsersApiTest, ListensOnLoopbackByDefaultAndAnswersOversizedBodiesWith413) {
  auto app = Start("u1");
  ASSERT_TRUE(app);
  ASSERT_TRUE(app->url().starts_with("http://127.0.0.1:")) << app->url();
  const size_t cap = users::UsersAppConfig{}.max_body_bytes;
  Reply big = Send(app->url(), "POST", "/users", "{\"name\":\"" + std::string(cap, 'x') + "\"}");
  EXPECT_EQ(big.status, 413) << big.body;
  EXPECT_NE(big.body.find("request body over " + std::to_string(cap) + " bytes"), std::string::npos) << big.body;
  // Still serving: a normal write succeeds.
  Reply ok = SendSettled(app->url(), "POST", "/users", NewUser(1));
  EXPECT_EQ(ok.status, 201) << ok.body;
}

TEST_F(UsersApiTest, EveryInstanceAnswersEveryUser) {
  auto a = Start("a"), b = Start("b"), c = Start("c");
  ASSERT_TRUE(a && b && c);
  std::vector<UsersApp*> apps{a.get(), b.get(), c.get()};
  ASSERT_TRUE(WaitUntil([&] { return Settled(apps); }, 60s)) << "the three instances never split the partitions";
  auto created = CreateUsers(apps, 1000);
  ASSERT_EQ(created.size(), 1000u);
  for (auto* app : apps) {
    for (const auto& [id, body] : created) {
      Reply r = Send(app->url(), "GET", "/users/" + id);
      ASSERT_EQ(r.status, 200) << app->url() << " " << id << ": " << r.body;
      ASSERT_EQ(json::parse(r.body), body);
    }
  }
  const std::string gone = created.begin()->first;
  EXPECT_EQ(Send(b->url(), "DELETE", "/users/" + gone).status, 204);
  for (auto* app : apps) EXPECT_EQ(Send(app->url(), "GET", "/users/" + gone).status, 404);
}

TEST_F(UsersApiTest, SurvivorsAnswerEveryUserAfterAnInstanceStops) {
  auto a = Start("a"), b = Start("b"), c = Start("c");
  ASSERT_TRUE(a && b && c);
  std::vector<UsersApp*> apps{a.get(), b.get(), c.get()};
  ASSERT_TRUE(WaitUntil([&] { return Settled(apps); }, 60s));
  auto created = CreateUsers(apps, 300);
  ASSERT_EQ(created.size(), 300u);

  // While c leaves and its partitions move, readers get each user or 503
  // (moving, restoring), never a 404.
  std::atomic<bool> reading{true};
  std::map<int, int> statuses;  // status -> count, written by the reader only
  std::thread reader([&, urls = std::vector<std::string>{a->url(), b->url()}] {
    auto it = created.begin();
    for (size_t i = 0; reading; ++i, ++it) {
      if (it == created.end()) it = created.begin();
      Reply r = Send(urls[i % 2], "GET", "/users/" + it->first);
      statuses[r.status]++;
      if (r.status == 200) {
        EXPECT_EQ(json::parse(r.body), it->second);
      }
    }
  });
  c->Stop();
  c.reset();
  apps.pop_back();
  const bool settled = WaitUntil([&] { return Settled(apps); }, 60s);
  reading = false;
  reader.join();
  ASSERT_TRUE(settled) << "the survivors never took c's partitions";
  EXPECT_EQ(statuses[404], 0) << "a wrong 404 while partitions moved";
  EXPECT_EQ(statuses[200] + statuses[503], std::accumulate(statuses.begin(), statuses.end(), 0,
                                                           [](int sum, const auto& s) { return sum + s.second; }));
  EXPECT_GT(statuses[200], 0);
  for (auto* app : apps) {
    for (const auto& [id, body] : created) {
      Reply r = SendSettled(app->url(), "GET", "/users/" + id);
      ASSERT_EQ(r.status, 200) << app->url() << " " << id << ": " << r.body;
      ASSERT_EQ(json::parse(r.body), body);
    }
  }
}

TEST_F(UsersApiTest, ConcurrentUpdatesOfOneUserEndWithTheLastWrite) {
  auto a = Start("a"), b = Start("b");
  ASSERT_TRUE(a && b);
  std::vector<UsersApp*> apps{a.get(), b.get()};
  ASSERT_TRUE(WaitUntil([&] { return Settled(apps); }, 60s));
  Reply created = Send(a->url(), "POST", "/users", NewUser(0));
  ASSERT_EQ(created.status, 201);
  const std::string id = json::parse(created.body)["id"];

  std::mutex mu;
  std::map<int64_t, std::string> by_offset;  // offset of each update -> its name
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 10; ++i) {
        const std::string name = "writer " + std::to_string(w) + " update " + std::to_string(i);
        Reply r = Send(apps[(w + i) % 2]->url(), "PUT", "/users/" + id,
                       json{{"name", name}, {"email", "x@example.com"}}.dump());
        ASSERT_EQ(r.status, 200) << r.body;
        std::lock_guard lock(mu);
        by_offset[std::stoll(r.offset.substr(r.offset.find(':') + 1))] = name;
      }
    });
  }
  for (auto& t : writers) t.join();
  ASSERT_EQ(by_offset.size(), 80u);
  for (auto* app : apps) {
    Reply r = Send(app->url(), "GET", "/users/" + id);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(json::parse(r.body)["name"], by_offset.rbegin()->second);
  }
}

TEST_F(UsersApiTest, RestartedRocksDbInstanceReplaysOnlyTheTail) {
  const auto dir = ScratchDir();
  StateConfig rocks{StoreBackend::kRocksDb, dir.string()};
  auto app = StartSettled("solo", rocks);
  ASSERT_TRUE(app);
  std::vector<std::string> ids = PostUsers(*app, 300);
  ASSERT_EQ(ids.size(), 300u);
  app->Stop();
  app.reset();

  // 50 users written while no instance runs: the tail.
  auto producer = kafka::Producer::Create(
      kafka::ConnectionProperties(cluster_->bootstrap(), EmbeddedCluster::ClientProperties(), "tail-writer"));
  ASSERT_TRUE(producer.ok());
  for (int i = 0; i < 50; ++i) {
    const std::string id = "tail-" + std::to_string(i);
    ASSERT_TRUE((*producer)->Produce("users", id, json{{"id", id}, {"name", "tail"}, {"email", "t@x"}}.dump()).ok());
    ids.push_back(id);
  }
  ASSERT_TRUE((*producer)->Flush(10000).ok());

  auto applied_since_start = [](const UsersApp& app) {
    uint64_t n = 0;
    for (const auto& p : app.table().Stats()) n += p.applied_since_assigned;
    return n;
  };
  app = Start("solo", rocks);
  ASSERT_TRUE(app);
  ASSERT_TRUE(WaitUntil([&] { return Settled({app.get()}); }, 60s));
  EXPECT_EQ(applied_since_start(*app), 50u) << "a restart must replay only what the store had not applied";
  for (const auto& id : ids) EXPECT_EQ(Send(app->url(), "GET", "/users/" + id).status, 200) << id;

  // The sole instance lists every user, page by page, each once.
  std::set<std::string> listed;
  std::string cursor;
  int pages = 0;
  do {
    Reply page = Send(app->url(), "GET", "/users?limit=64" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(page.status, 200) << page.body;
    auto body = json::parse(page.body);
    for (const auto& user : body["users"]) EXPECT_TRUE(listed.insert(user["id"]).second) << user;
    cursor = body["next"].is_null() ? "" : body["next"].get<std::string>();
    ASSERT_LT(++pages, 20);
  } while (!cursor.empty());
  EXPECT_EQ(listed.size(), ids.size());
  for (const char* bad : {"/users?cursor=:x", "/users?cursor=x:y", "/users?cursor=3", "/users?limit=0", "/users?limit=1x"}) {
    EXPECT_EQ(Send(app->url(), "GET", bad).status, 400) << bad;
  }
  app->Stop();
  app.reset();

  // The same restart with the memory store replays every record.
  app = Start("solo", {});
  ASSERT_TRUE(app);
  ASSERT_TRUE(WaitUntil([&] { return Settled({app.get()}); }, 60s));
  EXPECT_EQ(applied_since_start(*app), 350u);
  app.reset();
  std::filesystem::remove_all(dir);
}

// A RocksDB instance's state written against another broker (the same holds
// for a topic deleted and recreated under a stopped instance): its applied
// offsets lie past the new partitions' ends. Before, the table took itself for
// caught up ("restoring from offset 11 to 0") and answered the old users and a
// wrong 404 for the new ones.
TEST_F(UsersApiTest, RocksDbStateBeyondThePartitionsEndIsRebuiltFromTheTopic) {
  const auto dir = ScratchDir();
  StateConfig rocks{StoreBackend::kRocksDb, dir.string()};
  auto app = StartSettled("solo", rocks);
  ASSERT_TRUE(app);
  std::vector<std::string> old_ids = PostUsers(*app, 60);  // ~10 per partition: every applied offset is past 1
  ASSERT_EQ(old_ids.size(), 60u);
  std::map<int32_t, int64_t> applied_before;
  for (const auto& p : app->table().Stats()) applied_before[p.partition.value()] = p.applied;
  app->Stop();
  app.reset();

  // Another broker, whose users topic holds two users.
  auto other = EmbeddedCluster::Start();
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  cluster_ = std::move(other.value());
  ASSERT_TRUE(cluster_->CreateTopic("users", kPartitions).ok());
  auto producer = kafka::Producer::Create(
      kafka::ConnectionProperties(cluster_->bootstrap(), EmbeddedCluster::ClientProperties(), "new-writer"));
  ASSERT_TRUE(producer.ok());
  const std::vector<std::string> new_ids = {"new-0", "new-1"};
  for (const auto& id : new_ids) {
    ASSERT_TRUE((*producer)->Produce("users", id, json{{"id", id}, {"name", "new"}, {"email", "n@x"}}.dump()).ok());
  }
  ASSERT_TRUE((*producer)->Flush(10000).ok());
  for (const auto& [p, applied] : applied_before) ASSERT_GE(applied, 1) << "partition " << p << " had too few users";

  app = Start("solo", rocks);
  ASSERT_TRUE(app);
  ASSERT_TRUE(WaitUntil([&] { return Settled({app.get()}); }, 60s));
  for (const auto& id : new_ids) EXPECT_EQ(Send(app->url(), "GET", "/users/" + id).status, 200) << id;
  for (const auto& id : old_ids) EXPECT_EQ(Send(app->url(), "GET", "/users/" + id).status, 404) << id;
  uint64_t applied_since_start = 0;
  for (const auto& p : app->table().Stats()) applied_since_start += p.applied_since_assigned;
  EXPECT_EQ(applied_since_start, new_ids.size());
  app.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kstrand::test
