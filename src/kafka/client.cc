#include "kafka/client.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <chrono>
#include <memory>
#include <mutex>
#include <atomic>
#include <thread>
#include <unordered_map>

#include "kafka/error.h"
#include "log/log.h"

namespace kstrand::kafka {
namespace {

// What the error callback needs about its client. librdkafka gives one opaque
// per client and the runtime's callbacks already use it, so the state is found
// by handle instead; the entry lives from NewClient to DestroyClient.
struct ClientState {
  std::string user;       // sasl.username, for error messages (never the password)
  std::string mechanism;  // sasl.mechanisms
  std::string protocol;   // security.protocol
  ErrorHandler on_error;  // may be empty
  std::mutex mu;
  Status failure;  // guarded by mu: the first fatal error, if any
};

std::mutex registry_mu;
std::unordered_map<const rd_kafka_t*, std::shared_ptr<ClientState>>& Registry() {
  static auto* registry = new std::unordered_map<const rd_kafka_t*, std::shared_ptr<ClientState>>();
  return *registry;  // never destroyed: a client may outlive static destruction
}

std::shared_ptr<ClientState> Find(const rd_kafka_t* rk) {
  std::lock_guard lock(registry_mu);
  auto it = Registry().find(rk);
  return it == Registry().end() ? nullptr : it->second;
}

std::string ConfValue(const rd_kafka_conf_t* conf, const char* name) {
  char buf[512];
  size_t size = sizeof buf;
  return rd_kafka_conf_get(conf, name, buf, &size) == RD_KAFKA_CONF_OK ? std::string(buf) : std::string();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Errors no reconnect can cure: the broker rejected our credentials, or the
// TLS handshake failed (certificates, or TLS against a plaintext port).
// librdkafka reports them and reconnects forever (backoff up to
// reconnect.backoff.max.ms), which reads as a hang and hammers the broker.
// Everything else, a broker down or a refused connection included, stays
// retriable.
Status Classify(rd_kafka_t* rk, const ClientState& state, rd_kafka_resp_err_t err, const char* reason, bool* fatal) {
  const std::string why = reason && *reason ? reason : rd_kafka_err2str(err);
  *fatal = IsFatalClientError(err);
  switch (err) {
    case RD_KAFKA_RESP_ERR__FATAL: {
      char text[512];
      rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, text, sizeof text);
      return KafkaStatus(orig, "fatal Kafka client error", text);
    }
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
      if (Lower(state.protocol).starts_with("sasl")) {
        return Status(MakeErrorCode(err), "authentication failed as user '" + state.user + "' with mechanism " +
                                              state.mechanism + ": " + why);
      }
      return Status(MakeErrorCode(err), "authentication failed: " + why);
    case RD_KAFKA_RESP_ERR__SSL:
      return Status(MakeErrorCode(err), "TLS handshake failed: " + why);
    default:
      return Status(MakeErrorCode(err), why);
  }
}

// The error callback of every client: records a fatal error for
// ClientFailure(), then hands every error to the owner's handler, or logs it
// (as librdkafka does when no callback is set).
void ErrorCb(rd_kafka_t* rk, int err, const char* reason, void*) noexcept {
  try {
    auto state = Find(rk);
    if (!state) return;  // being destroyed
    bool fatal = false;
    Status error = Classify(rk, *state, static_cast<rd_kafka_resp_err_t>(err), reason, &fatal);
    if (fatal) {
      std::lock_guard lock(state->mu);
      if (state->failure.ok()) state->failure = error;
    }
    if (state->on_error) {
      state->on_error(error, fatal);
    } else if (fatal) {
      spdlog::error("{}: {}", rd_kafka_name(rk), error.detail());
    } else {
      spdlog::warn("{}: {}", rd_kafka_name(rk), error.detail());
    }
  } catch (...) {
  }
}

// librdkafka's log callback, on every conf kstrand makes: its lines join
// kstrand's in the log sink (kstrand/log.h) instead of librdkafka printing
// them to stderr itself. Runs on librdkafka's threads.
void LogCb(const rd_kafka_t* rk, int level, const char* fac, const char* buf) noexcept {
  try {
    // syslog levels: 0-3 errors, 4 warning, 5 notice and 6 info, 7 debug.
    const LogLevel ours = level <= 3 ? LogLevel::kError
                          : level == 4 ? LogLevel::kWarning
                          : level <= 6 ? LogLevel::kInfo
                                       : LogLevel::kDebug;
    // Debug lines come only from the contexts the `debug` property asked
    // for: they pass whatever the minimum level.
    const bool requested = level >= 7;
    if (!requested && ours < GetLogLevel()) return;
    // A connection failure: librdkafka logs it as FAIL and also reports it
    // to ErrorCb, which every kstrand client has and which logs it (or hands
    // it to the owner, who does). Once is enough.
    if (level < 7 && std::strcmp(fac, "FAIL") == 0) return;
    log::Emit(ours, "librdkafka", fmt::format("{} {}: {}", rk ? rd_kafka_name(rk) : "?", fac, buf), requested);
  } catch (...) {
  }
}

}  // namespace

bool IsSecretProperty(std::string_view name) {
  const std::string n = Lower(name);
  for (std::string_view word : {"password", "secret", "passphrase", "private.key", "token"}) {
    if (n.find(word) != std::string::npos) return true;
  }
  // ssl.key.pem is the private key itself; sasl.oauthbearer.config may carry
  // a client secret or token.
  return n == "ssl.key.pem" || n == "ssl_key" || n == "sasl.oauthbearer.config";
}

std::string Redacted(std::string_view name, std::string_view value) {
  return IsSecretProperty(name) ? std::string("[redacted]") : std::string(value);
}

Properties ConnectionProperties(const std::string& brokers, const Properties& kafka, const std::string& client_id) {
  Properties props{{"bootstrap.servers", brokers}, {"client.id", client_id}};
  for (const auto& [k, v] : kafka) {
    if (k.starts_with("security.") || k.starts_with("sasl.") || k.starts_with("ssl.") || k == "debug") props[k] = v;
  }
  return props;
}

Result<ConfPtr> MakeConf(const Properties& props) {
  log::Install();
  ConfPtr conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), &LogCb);
  char errstr[512];
  for (const auto& [name, value] : props) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      std::string why = errstr;
      // librdkafka may quote the value it rejects.
      if (IsSecretProperty(name) && !value.empty()) {
        for (size_t at; (at = why.find(value)) != std::string::npos;) why.replace(at, value.size(), "[redacted]");
      }
      return Status(Errc::kInvalidArgument, "librdkafka property " + name + "=" + Redacted(name, value) + ": " + why);
    }
  }
  return conf;
}

Result<ClientPtr> NewClient(rd_kafka_type_t type, const Properties& props,
                            const std::function<void(rd_kafka_conf_t*)>& customize, ErrorHandler on_error) {
  auto conf = MakeConf(props);
  if (!conf.ok()) return conf.status();
  if (customize) customize(conf->get());
  // After customize: every client reports errors through ErrorCb.
  rd_kafka_conf_set_error_cb(conf->get(), &ErrorCb);
  auto state = std::make_shared<ClientState>();
  state->user = ConfValue(conf->get(), "sasl.username");
  state->mechanism = ConfValue(conf->get(), "sasl.mechanisms");
  state->protocol = ConfValue(conf->get(), "security.protocol");
  state->on_error = std::move(on_error);
  char errstr[512];
  // rd_kafka_new takes the conf only when it succeeds; on failure we still own it.
  rd_kafka_t* rk = rd_kafka_new(type, conf->get(), errstr, sizeof errstr);
  if (!rk) return Status(Errc::kInvalidArgument, std::string("creating Kafka client: ") + errstr);
  (void)conf->release();
  {
    // Before anyone can poll rk, so no error goes unclassified.
    std::lock_guard lock(registry_mu);
    Registry()[rk] = std::move(state);
  }
  return ClientPtr(rk);
}

namespace {
std::atomic<int> being_destroyed{0};  // DestroyClientInBackground's threads still running

void Destroy(rd_kafka_t* rk, int flags) noexcept {
  {
    // Before rd_kafka_destroy: once it returns, a new client may get the same address.
    std::lock_guard lock(registry_mu);
    Registry().erase(rk);
  }
  rd_kafka_destroy_flags(rk, flags);
}
}  // namespace

void DestroyClient(rd_kafka_t* rk) noexcept { Destroy(rk, 0); }

void DestroyClientInBackground(rd_kafka_t* rk) noexcept {
  ++being_destroyed;
  try {
    std::thread([rk] {
      Destroy(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
      --being_destroyed;
    }).detach();
  } catch (...) {  // no thread to be had: wait here
    Destroy(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    --being_destroyed;
  }
}

int ClientsBeingDestroyed() noexcept { return being_destroyed; }

Status ClientFailure(rd_kafka_t* rk) {
  auto state = Find(rk);
  if (!state) return Status::Ok();
  std::lock_guard lock(state->mu);
  return state->failure;
}

Status ValidateProperties(const Properties& props) { return MakeConf(props).status(); }

Status WaitForBrokers(rd_kafka_t* rk, const std::string& bootstrap, int timeout_ms) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  // rd_kafka_metadata waits for a usable broker for its whole timeout, and a
  // broker that rejects our credentials never becomes usable: asking in short,
  // growing slices lets us see the authentication error (served by the poll
  // below) after the first attempt instead of at the deadline. Growing,
  // because a loaded broker may take longer than the first slice to answer.
  int slice_ms = 100;
  for (;;) {
    const auto attempt = Clock::now();
    const int left_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - attempt).count());
    const rd_kafka_metadata_t* raw = nullptr;
    // all_topics=0 with no topic handle asks for broker list only: cheap.
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, nullptr, &raw, std::clamp(left_ms, 1, slice_ms));
    MetadataPtr metadata(raw);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
    rd_kafka_poll(rk, 0);  // serves queued errors to ErrorCb
    KSTRAND_RETURN_IF_ERROR(ClientFailure(rk));
    if (!IsUnreachable(err)) {
      return KafkaStatus(err, "metadata request to " + bootstrap);
    }
    if (Clock::now() >= deadline) {
      return Status(Errc::kTimedOut, "no Kafka broker answered at " + bootstrap + " within " +
                                         std::to_string(timeout_ms) + " ms (" + rd_kafka_err2str(err) + ")");
    }
    // A failure that came back at once (no broker known yet) must not spin.
    if (Clock::now() - attempt < std::chrono::milliseconds(20)) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    slice_ms = std::min(slice_ms * 2, 1000);
  }
}

}  // namespace kstrand::kafka
