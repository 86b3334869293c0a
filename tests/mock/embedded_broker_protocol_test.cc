// The embedded broker spoken to in raw Kafka protocol, for what no client
// library does on purpose: repeat a group request on a new connection while the
// broker still holds the first one. Only the classic protocol's JoinGroup v1,
// SyncGroup v0 and Heartbeat v0, over blocking loopback sockets whose every
// read is bounded (kReadTimeout), so a broker that stops answering fails the
// test instead of hanging it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "kstrand/embedded_cluster.h"

namespace kstrand::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The longest any read waits. The mock answers a new group's JoinGroups after
// its initial rebalance delay (3 s), everything else at once.
constexpr auto kReadTimeout = 10s;
// How long a request must go unanswered to count as held by the mock.
constexpr auto kHeldFor = 300ms;
// Long enough that no member's session expires during the 3 s first rebalance
// (the mock checks sessions every second against the latest JoinGroup's value).
constexpr int32_t kSessionTimeoutMs = 10000;

constexpr int16_t kJoinGroup = 11;
constexpr int16_t kHeartbeat = 12;
constexpr int16_t kSyncGroup = 14;

// What went wrong on the wire; gtest reports its message as the test's failure.
struct ProtocolError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Big-endian fields of the non-flexible request versions used here.
class Encoder {
 public:
  Encoder& I16(int16_t v) { return Int(static_cast<uint16_t>(v), 2); }
  Encoder& I32(int32_t v) { return Int(static_cast<uint32_t>(v), 4); }
  Encoder& String(std::string_view s) {
    I16(static_cast<int16_t>(s.size()));
    out_.append(s);
    return *this;
  }
  Encoder& Bytes(std::string_view s) {
    I32(static_cast<int32_t>(s.size()));
    out_.append(s);
    return *this;
  }
  const std::string& data() const { return out_; }

 private:
  Encoder& Int(uint32_t v, int width) {
    for (int i = width - 1; i >= 0; --i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }
  std::string out_;
};

class Decoder {
 public:
  explicit Decoder(std::string in) : in_(std::move(in)) {}
  int16_t I16() { return static_cast<int16_t>(Int(2)); }
  int32_t I32() { return static_cast<int32_t>(Int(4)); }
  // A null string or byte array reads as "".
  std::string String() {
    const int16_t n = I16();
    return n < 0 ? "" : Take(static_cast<size_t>(n));
  }
  std::string Bytes() {
    const int32_t n = I32();
    return n < 0 ? "" : Take(static_cast<size_t>(n));
  }

 private:
  uint32_t Int(size_t width) {
    uint32_t v = 0;
    for (char c : Take(width)) v = (v << 8) | static_cast<unsigned char>(c);
    return v;
  }
  std::string Take(size_t n) {
    if (n > in_.size() - pos_) throw ProtocolError("response shorter than its fields");
    std::string s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string in_;
  size_t pos_ = 0;
};

// "127.0.0.1:39201" -> a loopback address.
sockaddr_in BrokerAddress(const std::string& bootstrap) {
  const size_t colon = bootstrap.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (colon == std::string::npos || bootstrap.find(',') != std::string::npos ||
      inet_pton(AF_INET, bootstrap.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
    throw ProtocolError("not one IPv4 broker: " + bootstrap);
  }
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(bootstrap.substr(colon + 1))));
  return addr;
}

// One client connection to the broker (a blocking socket).
class Connection {
 public:
  explicit Connection(const sockaddr_in& broker) : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) throw ProtocolError(std::string("socket: ") + std::strerror(errno));
    timeval send_timeout{.tv_sec = kReadTimeout.count(), .tv_usec = 0};
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
    if (connect(fd_, reinterpret_cast<const sockaddr*>(&broker), sizeof broker) != 0) {
      const int err = errno;
      Close();
      throw ProtocolError(std::string("connect: ") + std::strerror(err));
    }
  }
  ~Connection() { Close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Closes the socket (FIN), as a client does after a transport error.
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  // Sends a request (header v1: api key, version, correlation id, client id);
  // returns its correlation id.
  int32_t Send(int16_t api_key, int16_t version, const Encoder& body) {
    const int32_t correlation_id = next_correlation_id_++;
    Encoder header;
    header.I16(api_key).I16(version).I32(correlation_id).String("kstrand-protocol-test");
    Encoder frame;
    frame.I32(static_cast<int32_t>(header.data().size() + body.data().size()));
    const std::string bytes = frame.data() + header.data() + body.data();
    if (send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(bytes.size())) {
      throw ProtocolError(std::string("send: ") + std::strerror(errno));
    }
    return correlation_id;
  }

  // The response to `correlation_id` (its body, after the header), or nullopt
  // if none began within `wait`.
  std::optional<Decoder> Receive(int32_t correlation_id, std::chrono::milliseconds wait) {
    if (!Readable(wait)) return std::nullopt;
    const auto deadline = Clock::now() + kReadTimeout;
    const int32_t size = Decoder(ReadExactly(4, deadline)).I32();
    if (size < 4 || size > (1 << 20)) throw ProtocolError("bad response size " + std::to_string(size));
    Decoder response(ReadExactly(static_cast<size_t>(size), deadline));
    if (const int32_t got = response.I32(); got != correlation_id) {
      throw ProtocolError("response to correlation id " + std::to_string(got) + ", expected " +
                          std::to_string(correlation_id));
    }
    return response;
  }

  // The same, failing when none came within kReadTimeout.
  Decoder Response(int32_t correlation_id, std::string_view request) {
    std::optional<Decoder> response = Receive(correlation_id, kReadTimeout);
    if (!response) {
      throw ProtocolError("no " + std::string(request) + " response within " + std::to_string(kReadTimeout.count()) +
                          " s");
    }
    return std::move(*response);
  }

 private:
  bool Readable(std::chrono::milliseconds wait) {
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    const int n = poll(&p, 1, static_cast<int>(wait.count()));
    if (n < 0) throw ProtocolError(std::string("poll: ") + std::strerror(errno));
    return n > 0;
  }
  std::string ReadExactly(size_t n, Clock::time_point deadline) {
    std::string out;
    while (out.size() < n) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left <= 0ms || !Readable(left)) throw ProtocolError("truncated response: the broker stopped sending");
      char buf[4096];
      const ssize_t got = recv(fd_, buf, std::min(sizeof buf, n - out.size()), 0);
      if (got == 0) throw ProtocolError("the broker closed the connection");
      if (got < 0) throw ProtocolError(std::string("recv: ") + std::strerror(errno));
      out.append(buf, static_cast<size_t>(got));
    }
    return out;
  }

  int fd_;
  int32_t next_correlation_id_ = 1;
};

// JoinGroup v1 (protocol type "consumer", one protocol "range") for
// `member_id`, "" for a new member.
int32_t SendJoinGroup(Connection& conn, const std::string& group, const std::string& member_id) {
  Encoder body;
  body.String(group).I32(kSessionTimeoutMs).I32(30000).String(member_id).String("consumer");
  body.I32(1).String("range").Bytes("");
  return conn.Send(kJoinGroup, 1, body);
}

struct JoinResponse {
  int16_t error_code = -1;
  int32_t generation_id = -1;
  std::string leader;
  std::string member_id;
};

JoinResponse ReadJoinGroup(Connection& conn, int32_t correlation_id) {
  Decoder d = conn.Response(correlation_id, "JoinGroup");
  JoinResponse r;
  r.error_code = d.I16();
  r.generation_id = d.I32();
  d.String();  // the chosen protocol
  r.leader = d.String();
  r.member_id = d.String();
  return r;  // the leader's list of members is not needed
}

// SyncGroup v0: the leader sends every member's assignment (member id,
// assignment bytes), a follower none.
using Assignments = std::vector<std::pair<std::string, std::string>>;

int32_t SendSyncGroup(Connection& conn, const std::string& group, int32_t generation_id,
                      const std::string& member_id, const Assignments& assignments = {}) {
  Encoder body;
  body.String(group).I32(generation_id).String(member_id).I32(static_cast<int32_t>(assignments.size()));
  for (const auto& [member, assignment] : assignments) body.String(member).Bytes(assignment);
  return conn.Send(kSyncGroup, 0, body);
}

struct SyncResponse {
  int16_t error_code = -1;
  std::string assignment;
};

SyncResponse ReadSyncGroup(Connection& conn, int32_t correlation_id) {
  Decoder d = conn.Response(correlation_id, "SyncGroup");
  SyncResponse r;
  r.error_code = d.I16();
  r.assignment = d.Bytes();
  return r;
}

// Heartbeat v0; returns its error code.
int16_t Heartbeat(Connection& conn, const std::string& group, int32_t generation_id, const std::string& member_id) {
  Encoder body;
  body.String(group).I32(generation_id).String(member_id);
  return conn.Response(conn.Send(kHeartbeat, 0, body), "Heartbeat").I16();
}

class EmbeddedBrokerProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = EmbeddedCluster::Start(1);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(cluster.value());
    broker_ = BrokerAddress(cluster_->bootstrap());
  }

  std::unique_ptr<EmbeddedCluster> cluster_;
  sockaddr_in broker_{};
};

// A group member: its connection to the coordinator and what JoinGroup told it.
struct Member {
  std::unique_ptr<Connection> conn;
  JoinResponse joined;
};

// The chaos soak's seed 112 (classic protocol, brokers down and up, injected
// request errors) aborted the test binary inside the mock:
//   rdkafka_mock_cgrp.c:243 ... Assertion '!member->resp' failed
// librdkafka retries a SyncGroup that failed with a transport error on its next
// coordinator connection, and the mock still held the first one: it does not
// poll a connection whose response it holds, so it never saw it close.
// scripts/librdkafka-patches/mock-classic-repeated-syncgroup.patch lets the
// repeat supersede the held request, as Kafka's coordinator does. Without the
// patch this test does not fail: it aborts the whole test binary.
TEST_F(EmbeddedBrokerProtocolTest, ARepeatedSyncGroupOnANewConnectionIsAnsweredNotAborted) {
  const std::string group = "repeated-syncgroup";
  Member leader{std::make_unique<Connection>(broker_), {}};
  Member follower{std::make_unique<Connection>(broker_), {}};
  const int32_t join_1 = SendJoinGroup(*leader.conn, group, "");
  const int32_t join_2 = SendJoinGroup(*follower.conn, group, "");
  leader.joined = ReadJoinGroup(*leader.conn, join_1);  // after the mock's initial rebalance delay, 3 s
  follower.joined = ReadJoinGroup(*follower.conn, join_2);
  ASSERT_EQ(leader.joined.error_code, 0);
  ASSERT_EQ(follower.joined.error_code, 0);
  ASSERT_EQ(leader.joined.generation_id, follower.joined.generation_id);
  // The mock's leader is whichever JoinGroup it read first.
  if (follower.joined.leader == follower.joined.member_id) std::swap(leader, follower);
  ASSERT_EQ(leader.joined.leader, leader.joined.member_id);
  ASSERT_EQ(follower.joined.leader, leader.joined.member_id);
  const int32_t generation = leader.joined.generation_id;
  const std::string leader_id = leader.joined.member_id;
  const std::string follower_id = follower.joined.member_id;

  // The follower's SyncGroup waits for the leader's, which brings the assignments.
  const int32_t held = SendSyncGroup(*follower.conn, group, generation, follower_id);
  ASSERT_FALSE(follower.conn->Receive(held, kHeldFor)) << "the follower's SyncGroup was not held";
  // A transport error: the client drops the connection and sends the same
  // SyncGroup on its next one. The pause would let the mock notice the close,
  // were it polling that connection.
  follower.conn->Close();
  std::this_thread::sleep_for(200ms);
  follower.conn = std::make_unique<Connection>(broker_);
  const int32_t repeated = SendSyncGroup(*follower.conn, group, generation, follower_id);
  // Without the patch, the mock aborts here.
  ASSERT_FALSE(follower.conn->Receive(repeated, kHeldFor)) << "the repeated SyncGroup was not held";

  const Assignments assignments = {{leader_id, "leader's assignment"}, {follower_id, "follower's assignment"}};
  const int32_t leader_sync = SendSyncGroup(*leader.conn, group, generation, leader_id, assignments);
  const SyncResponse leader_synced = ReadSyncGroup(*leader.conn, leader_sync);
  EXPECT_EQ(leader_synced.error_code, 0);
  EXPECT_EQ(leader_synced.assignment, "leader's assignment");
  const SyncResponse follower_synced = ReadSyncGroup(*follower.conn, repeated);
  EXPECT_EQ(follower_synced.error_code, 0);
  EXPECT_EQ(follower_synced.assignment, "follower's assignment");

  // The broker serves on, and the group is stable at this generation with both
  // members: each heartbeats, the follower on yet another connection.
  EXPECT_EQ(Heartbeat(*leader.conn, group, generation, leader_id), 0);
  Connection another(broker_);
  EXPECT_EQ(Heartbeat(another, group, generation, follower_id), 0);
}

// The same for JoinGroup (rdkafka_mock_cgrp.c:603, the same assertion, fixed
// by the same patch): after a JoinGroup fails with a transport error,
// librdkafka joins again, as the same member, on its next connection. The mock
// takes a member id that a client names in its first JoinGroup (a real broker
// would not), so the repeat happens in the group's first rebalance instead of
// a second one, which the mock delays by session.timeout.ms - 1 s.
// Without the patch this test aborts the whole test binary.
TEST_F(EmbeddedBrokerProtocolTest, ARepeatedJoinGroupOnANewConnectionIsAnsweredNotAborted) {
  const std::string group = "repeated-joingroup";
  const std::string member_id = "member-1";
  Connection first(broker_);
  const int32_t held = SendJoinGroup(first, group, member_id);
  ASSERT_FALSE(first.Receive(held, kHeldFor)) << "the JoinGroup was not held";
  first.Close();
  std::this_thread::sleep_for(200ms);
  Connection second(broker_);
  // Without the patch, the mock aborts here.
  const JoinResponse joined = ReadJoinGroup(second, SendJoinGroup(second, group, member_id));
  ASSERT_EQ(joined.error_code, 0);
  EXPECT_EQ(joined.member_id, member_id);
  EXPECT_EQ(joined.leader, member_id);  // the only member

  // The group works on: its one member leads, syncs and gets its assignment.
  const int32_t sync = SendSyncGroup(second, group, joined.generation_id, member_id, {{member_id, "assigned"}});
  const SyncResponse synced = ReadSyncGroup(second, sync);
  EXPECT_EQ(synced.error_code, 0);
  EXPECT_EQ(synced.assignment, "assigned");
  EXPECT_EQ(Heartbeat(second, group, joined.generation_id, member_id), 0);
}

}  // namespace
}  // namespace kstrand::test
