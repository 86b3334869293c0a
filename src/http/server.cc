// kstrand::http::Server: an httplib::Server whose connections are read through
// ServerLimits.
//
// cpp-httplib 0.11 bounds only bodies that declare a Content-Length: a chunked
// body, or one that runs to the end of the connection, is appended to
// req.body until the client stops; a header line is buffered whole before its
// length is checked; and each connection holds one of a few threads while it
// dribbles its headers (slow-loris). httplib reads every request through an
// httplib::Stream and lets a subclass take each accepted socket
// (process_and_close_socket), so the bounds live here:
//
// - Connection is the stream. It counts what it hands httplib, request by
//   request; past a bound it refuses to read further, httplib's read fails,
//   what httplib would answer is dropped, and the refusal (413, 431, 414, 408)
//   is written instead, naming the bound, and the connection is closed.
// - Reception is one thread that holds every connection while it waits for a
//   request: idle keep-alive connections and requests whose headers are still
//   arriving cost a pollfd and a buffer, not a thread. A connection goes to
//   the workers once its request line and headers are in.
// - Workers (max_connections threads) run httplib's process_request for one
//   request, then hand the connection back to Reception.
//
// Connections past max_connections + max_waiting_connections are answered
// 503 and closed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <system_error>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/mutex.h"
#include "kstrand/http.h"

namespace kstrand::http {
namespace {

using Clock = std::chrono::steady_clock;

// httplib's own per-line limits (CPPHTTPLIB_REQUEST_URI_MAX_LENGTH,
// CPPHTTPLIB_HEADER_MAX_LENGTH); enforced here while the line is read.
constexpr size_t kMaxLineBytes = 8192;

int MillisUntil(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, 1 << 30));
}

// Writes all of `data` by `deadline`; false if the peer is gone or too slow.
bool SendAll(int sock, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    ssize_t n = ::send(sock, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{sock, POLLOUT, 0};
      if (::poll(&p, 1, MillisUntil(deadline)) > 0) continue;
    }
    return false;
  }
  return true;
}

// {"error": why}, as kstrand's servers answer errors.
std::string ErrorBody(std::string_view why) {
  return nlohmann::json{{"error", why}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

const char* Reason(int status) {
  switch (status) {
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

std::string ErrorResponse(int status, std::string_view why) {
  const std::string body = ErrorBody(why);
  return "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

// After a refusal the client may still be sending: read and drop what comes
// for a moment, so that closing does not reset the connection before the
// client has read the answer (a close with unread data sends RST).
void Linger(int sock) {
  ::shutdown(sock, SHUT_WR);
  const auto until = Clock::now() + std::chrono::seconds(1);
  char sink[16 * 1024];
  size_t dropped = 0;
  while (dropped < (8u << 20)) {
    pollfd p{sock, POLLIN, 0};
    if (::poll(&p, 1, MillisUntil(until)) <= 0) break;
    ssize_t n = ::recv(sock, sink, sizeof(sink), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) break;
    if (n > 0) dropped += static_cast<size_t>(n);
  }
}

}  // namespace

// One accepted connection: its socket, its read buffer, and the stream each
// of its requests is read through. One thread at a time has it: Reception
// while it waits for a request, then one worker.
class Server::Connection final : public httplib::Stream {
 public:
  Connection(int sock, const ServerLimits& limits, const std::atomic<bool>& stopping)
      : sock_(sock), limits_(limits), stopping_(stopping), buf_(std::max<size_t>(16 * 1024, limits.max_header_bytes + 1)) {
    Idle();
  }
  ~Connection() override {
    ::shutdown(sock_, SHUT_RDWR);
    ::close(sock_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int sock() const { return sock_; }
  const std::string& refusal() const { return refusal_why_; }
  int refusal_status() const { return refusal_status_; }
  size_t requests() const { return requests_; }

  // --- Reception: waiting for a request -------------------------------------

  // Between requests: the idle clock runs until the next request's first byte.
  void Idle() {
    started_ = false;
    deadline_ = Clock::now() + limits_.idle_timeout;
  }
  Clock::time_point deadline() const { return deadline_; }
  // True once bytes of a request have arrived (its header clock runs).
  bool started() const { return started_; }

  // Reads what the socket has. false: the peer closed or failed.
  bool ReceiveMore() {
    if (pos_ > 0 && pos_ == len_) pos_ = len_ = 0;
    if (len_ == buf_.size()) return true;  // full: Ready() says so
    ssize_t n = ::recv(sock_, buf_.data() + len_, buf_.size() - len_, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n <= 0) return false;
    len_ += static_cast<size_t>(n);
    Start();
    return true;
  }

  // True when the request line and headers are buffered (or the buffer is
  // full, and the worker's count refuses them): a worker can take it.
  bool Ready() const {
    if (len_ == buf_.size()) return true;
    static constexpr std::string_view kEnd = "\r\n\r\n";
    return std::search(buf_.begin() + pos_, buf_.begin() + len_, kEnd.begin(), kEnd.end()) != buf_.begin() + len_;
  }

  // --- A worker: one request --------------------------------------------------

  // Before httplib reads the next request.
  void BeginRequest() {
    Start();
    in_headers_ = true;
    header_bytes_ = body_bytes_ = line_bytes_ = lines_ = 0;
    tail_ = 0;
    header_text_.clear();
    ++requests_;
  }
  bool buffered() const { return pos_ < len_; }

  bool is_readable() const override { return pos_ < len_ || WaitFor(POLLIN); }
  bool is_writable() const override { return WaitFor(POLLOUT); }

  ssize_t read(char* ptr, size_t size) override {
    if (refusal_status_ != 0) return -1;
    if (pos_ == len_ && !Fill()) return -1;
    size_t n = std::min(size, len_ - pos_);
    if (in_headers_) {
      n = CountHeaderBytes(n);
    } else if ((body_bytes_ += n) > limits_.max_body_bytes) {
      Refuse(413, "request body over " + std::to_string(limits_.max_body_bytes) + " bytes");
    }
    if (refusal_status_ != 0) return -1;
    std::memcpy(ptr, buf_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }

  // Once a request is refused, what httplib answers is dropped: the refusal is
  // written after httplib returns.
  ssize_t write(const char* ptr, size_t size) override {
    if (refusal_status_ != 0) return static_cast<ssize_t>(size);
    if (!SendAll(sock_, {ptr, size}, Clock::now() + limits_.idle_timeout)) return -1;
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { Address(::getpeername, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { Address(::getsockname, ip, port); }
  socket_t socket() const override { return sock_; }

  void CloseAfterAnswer() { close_after_answer_ = true; }
  bool close_after_answer() const { return close_after_answer_; }

  // A request that stopped arriving: 408, naming the deadline it missed.
  void TimedOut() {
    const auto limit = in_headers_ ? limits_.header_timeout : limits_.request_timeout;
    Refuse(408, std::string(in_headers_ ? "request line and headers" : "request") + " not received within " +
                    std::to_string(limit.count()) + " ms");
  }

  // What httplib could not parse, for its bare 400 (see Server::set_error_handler).
  std::string Malformed(const httplib::Request& req) const {
    if (in_headers_) return lines_ <= 1 ? "malformed request line" : "malformed header";
    if (req.get_header_value("Transfer-Encoding") == "chunked") return "malformed chunked body";
    return "malformed request";
  }

 private:
  // A request's clocks start at its first byte.
  void Start() {
    if (started_) return;
    started_ = true;
    const auto now = Clock::now();
    deadline_ = now + limits_.header_timeout;
    request_deadline_ = now + limits_.request_timeout;
  }

  // Refills the empty buffer within the request's deadlines. false on end of
  // stream, an error, or a deadline (the request is then refused with 408).
  bool Fill() {
    pos_ = len_ = 0;
    while (true) {
      ssize_t n = ::recv(sock_, buf_.data(), buf_.size(), MSG_DONTWAIT);
      if (n > 0) {
        len_ = static_cast<size_t>(n);
        return true;
      }
      if (n == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) return false;
      const auto deadline = in_headers_ ? std::min(deadline_, request_deadline_) : request_deadline_;
      if (stopping_) return false;
      pollfd p{sock_, POLLIN, 0};
      int ready = ::poll(&p, 1, std::min(200, MillisUntil(deadline)));  // 200 ms: notice a stop
      if (ready > 0 || (ready < 0 && errno == EINTR)) continue;
      if (ready < 0) return false;
      if (Clock::now() >= deadline) {
        TimedOut();
        return false;
      }
    }
  }

  bool WaitFor(short events) const {
    pollfd p{sock_, events, 0};
    return ::poll(&p, 1, MillisUntil(std::max(request_deadline_, Clock::now() + limits_.idle_timeout))) > 0;
  }

  // Accounts for the next `n` buffered bytes of the request line and headers;
  // returns how many of them belong to the headers (the rest is body).
  size_t CountHeaderBytes(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      const char c = buf_[pos_ + i];
      tail_ = (tail_ << 8) | static_cast<unsigned char>(c);
      if (++header_bytes_ > limits_.max_header_bytes) {
        Refuse(431, "request line and headers over " + std::to_string(limits_.max_header_bytes) + " bytes");
        return 0;
      }
      if (c == '\n') {
        ++lines_;
        line_bytes_ = 0;
      } else if (++line_bytes_ > kMaxLineBytes) {
        Refuse(lines_ == 0 ? 414 : 431, std::string(lines_ == 0 ? "request line" : "a header line") + " over " +
                                            std::to_string(kMaxLineBytes) + " bytes");
        return 0;
      }
      if ((tail_ & 0xffffffffu) == 0x0d0a0d0au) {  // "\r\n\r\n": the headers end here
        in_headers_ = false;
        header_text_.append(buf_.data() + pos_, i + 1);
        CheckDeclaredLength();
        return i + 1;
      }
    }
    header_text_.append(buf_.data() + pos_, n);
    return n;
  }

  // A declared Content-Length over the limit is refused now: httplib would
  // answer 413 only after reading (and dropping) the whole body.
  void CheckDeclaredLength() {
    static constexpr std::string_view kName = "\r\ncontent-length:";
    auto at = std::search(header_text_.begin(), header_text_.end(), kName.begin(), kName.end(),
                          [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
    if (at == header_text_.end()) return;
    const char* p = &*at + kName.size();
    while (*p == ' ' || *p == '\t') ++p;
    uint64_t declared = 0;
    auto [end, ec] = std::from_chars(p, header_text_.data() + header_text_.size(), declared);
    if (ec == std::errc::result_out_of_range || (ec == std::errc() && declared > limits_.max_body_bytes)) {
      Refuse(413, "request body over " + std::to_string(limits_.max_body_bytes) + " bytes (Content-Length " +
                      std::string(p, end) + ")");
    }
  }

  void Refuse(int status, std::string why) {
    if (refusal_status_ != 0) return;
    refusal_status_ = status;
    refusal_why_ = std::move(why);
  }

  template <typename Get>
  void Address(Get get, std::string& ip, int& port) const {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    ip.clear();
    port = -1;
    if (get(sock_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return;
    char text[INET6_ADDRSTRLEN] = {};
    if (addr.ss_family == AF_INET) {
      auto* in = reinterpret_cast<sockaddr_in*>(&addr);
      ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
      port = ntohs(in->sin_port);
    } else if (addr.ss_family == AF_INET6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
      ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
      port = ntohs(in6->sin6_port);
    }
    ip = text;
  }

  const int sock_;
  const ServerLimits& limits_;
  const std::atomic<bool>& stopping_;  // the server stops: stop waiting for the client
  std::vector<char> buf_;
  size_t pos_ = 0, len_ = 0;  // buf_[pos_, len_) is read from the socket, not yet handed to httplib
  bool started_ = false;
  Clock::time_point deadline_;          // idle: the idle timeout; started: the header timeout
  Clock::time_point request_deadline_;  // started: the request timeout
  bool in_headers_ = true;
  size_t header_bytes_ = 0, body_bytes_ = 0, line_bytes_ = 0, lines_ = 0;
  uint64_t tail_ = 0;  // the last bytes of the headers, to see "\r\n\r\n"
  std::string header_text_;  // the request line and headers, at most max_header_bytes
  size_t requests_ = 0;
  bool close_after_answer_ = false;
  int refusal_status_ = 0;  // 0: not refused
  std::string refusal_why_;
};

thread_local Server::Queue* Server::accepting_queue_ = nullptr;
thread_local Server::Connection* Server::serving_ = nullptr;

// httplib's task queue for a Server, created for each listen: the reception
// thread and the workers. httplib's accepting thread calls enqueue() for each
// accepted socket; the task runs at once and gives the socket to Admit().
class Server::Queue final : public httplib::TaskQueue {
 public:
  explicit Queue(Server& server) : server_(server), limits_(server.limits_), wake_fd_(::eventfd(0, EFD_NONBLOCK)) {
    reception_ = std::thread([this] { Receive(); });
  }
  ~Queue() override {
    shutdown();
    ::close(wake_fd_);
  }

  void enqueue(std::function<void()> task) override {
    accepting_queue_ = this;
    task();  // Server::process_and_close_socket: Admit()
    accepting_queue_ = nullptr;
  }

  void shutdown() override EXCLUDES(mu_) {
    {
      MutexLock lock(mu_);
      if (stopping_) return;
      stopping_ = true;
      closing_ = true;
      work_.notify_all();
    }
    Wake();
    reception_.join();  // then workers_ is ours
    for (auto& t : workers_) t.join();
    MutexLock lock(mu_);
    arrivals_.clear();
    ready_.clear();
  }

  void Admit(int sock) EXCLUDES(mu_) {
    auto c = std::make_unique<Connection>(sock, limits_, closing_);
    {
      MutexLock lock(mu_);
      if (open_ < limits_.max_connections + limits_.max_waiting_connections && !stopping_) {
        ++open_;
        arrivals_.push_back(std::move(c));
        c = nullptr;
      }
    }
    if (c == nullptr) return Wake();
    SendAll(sock, ErrorResponse(503, "server busy: " + std::to_string(open_limit()) + " connections open"),
            Clock::now() + std::chrono::milliseconds(100));
  }

 private:
  size_t open_limit() const { return limits_.max_connections + limits_.max_waiting_connections; }

  void Wake() {
    uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof(one));
  }

  // Reception: holds each connection that waits for its next request.
  void Receive() EXCLUDES(mu_) {
    std::vector<std::unique_ptr<Connection>> waiting;
    std::vector<pollfd> fds;
    while (true) {
      std::vector<std::unique_ptr<Connection>> ready;
      {
        MutexLock lock(mu_);
        if (stopping_) break;
        for (auto& c : arrivals_) waiting.push_back(std::move(c));
        arrivals_.clear();
      }
      fds.assign(1, pollfd{wake_fd_, POLLIN, 0});
      auto next = Clock::now() + std::chrono::seconds(1);
      for (auto& c : waiting) {
        fds.push_back({c->sock(), POLLIN, 0});
        next = std::min(next, c->deadline());
      }
      if (::poll(fds.data(), fds.size(), MillisUntil(next)) < 0 && errno != EINTR) continue;
      if (fds[0].revents != 0) {
        uint64_t count;
        (void)!::read(wake_fd_, &count, sizeof(count));
      }
      const auto now = Clock::now();
      size_t closed = 0;
      for (size_t i = 0; i < waiting.size(); ++i) {
        auto& c = waiting[i];
        bool keep = true;
        if (fds[i + 1].revents != 0) keep = c->ReceiveMore();
        if (keep && c->Ready()) {
          ready.push_back(std::move(c));
          continue;
        }
        if (keep && now >= c->deadline()) {
          if (c->started()) {  // a request that began and stalled: say so
            c->TimedOut();
            SendAll(c->sock(), ErrorResponse(c->refusal_status(), c->refusal()), now + std::chrono::milliseconds(100));
          }
          keep = false;
        }
        if (!keep) {
          c.reset();
          ++closed;
        }
      }
      std::erase(waiting, nullptr);
      MutexLock lock(mu_);
      open_ -= closed;
      for (auto& c : ready) ready_.push_back(std::move(c));
      if (ready.empty()) continue;
      // Workers start as requests need them, up to max_connections.
      if (ready_.size() > idle_workers_ && workers_.size() < std::max<size_t>(1, limits_.max_connections)) {
        workers_.emplace_back([this] { Work(); });
      }
      work_.notify_all();
    }
  }

  // A worker: serves one request of a ready connection, then hands it back.
  void Work() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    while (true) {
      ++idle_workers_;
      while (!stopping_ && ready_.empty()) lock.Wait(work_);
      --idle_workers_;
      if (stopping_) return;
      auto c = std::move(ready_.front());
      ready_.pop_front();
      lock.Unlock();
      const bool keep = server_.ServeOne(*c);
      if (keep) c->Idle();
      else c.reset();
      lock.Lock();
      if (!keep) {
        --open_;
      } else if (c->buffered() && c->Ready()) {
        ready_.push_back(std::move(c));  // the next request is already here (pipelined)
      } else {
        arrivals_.push_back(std::move(c));
        Wake();
      }
    }
  }

  Server& server_;
  const ServerLimits& limits_;
  const int wake_fd_;  // written to wake Reception's poll
  Mutex mu_;
  std::condition_variable work_;
  std::deque<std::unique_ptr<Connection>> arrivals_ GUARDED_BY(mu_);  // for Reception: new, or back from a worker
  std::deque<std::unique_ptr<Connection>> ready_ GUARDED_BY(mu_);     // for the workers: a request's headers are in
  size_t open_ GUARDED_BY(mu_) = 0;          // connections accepted and not closed
  size_t idle_workers_ GUARDED_BY(mu_) = 0;  // workers waiting for a request
  bool stopping_ GUARDED_BY(mu_) = false;
  std::atomic<bool> closing_ = false;  // stopping_, for a worker waiting on its client
  std::thread reception_;
  std::vector<std::thread> workers_;  // started and joined by Reception (and by shutdown once it has ended)
};

Server::Server(ServerLimits limits) : limits_(std::move(limits)) {
  set_payload_max_length(limits_.max_body_bytes);  // a declared Content-Length over the limit: 413 before reading
  new_task_queue = [this] { return new Queue(*this); };
  set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  set_tcp_nodelay(true);
  set_error_handler(Handler());
}

Server::~Server() = default;

Server& Server::set_error_handler(Handler handler) {
  httplib::Server::set_error_handler([handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    // httplib answers what it cannot parse with a bare 400: name the problem
    // (before the application's handler, which then sees a body).
    if (res.status == 400 && res.body.empty() && serving_ != nullptr) {
      res.set_content(ErrorBody(serving_->Malformed(req)), "application/json");
      serving_->CloseAfterAnswer();  // the rest of what it sent cannot be trusted to start a request
    }
    if (handler) handler(req, res);
  });
  return *this;
}

bool Server::process_and_close_socket(socket_t sock) {
  int yes = 1;  // httplib sets TCP_NODELAY on the listening socket only
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
  if (accepting_queue_ == nullptr) {  // not from our queue: someone replaced new_task_queue
    ::close(sock);
    return false;
  }
  accepting_queue_->Admit(sock);
  return true;
}

bool Server::ServeOne(Connection& c) {
  c.BeginRequest();
  bool closed = false;
  serving_ = &c;
  const bool last = keep_alive_max_count_ > 0 && c.requests() >= keep_alive_max_count_;
  const bool ok = process_request(c, last, closed, nullptr);
  serving_ = nullptr;
  if (c.refusal_status() != 0) {
    SendAll(c.sock(), ErrorResponse(c.refusal_status(), c.refusal()), Clock::now() + std::chrono::seconds(1));
    Linger(c.sock());
    return false;
  }
  return ok && !closed && !last && !c.close_after_answer() && svr_sock_ != INVALID_SOCKET;
}

Result<std::string> Bind(Server& server, const ListenAddress& address) {
  errno = 0;
  int port = address.port;
  const bool bound = port == 0 ? (port = server.bind_to_any_port(address.host)) > 0
                               : server.bind_to_port(address.host, port);
  if (!bound) {
    std::string why = errno != 0 ? std::error_code(errno, std::generic_category()).message()
                                 : "not an address of this machine";
    return Status(Errc::kInvalidArgument,
                  "cannot listen on " + address.host + ":" + std::to_string(address.port) + ": " + why);
  }
  return UrlFor(address.host, port);
}

}  // namespace kstrand::http
