/// @file
/// @brief StatusServer: the HTTP face of the runtimes in this process.
///
/// | Path       | What it serves |
/// |------------|----------------|
/// | `/`        | the live dashboard (one row per partition of the group: owner, lag, throughput; a timeline of rebalances); assets compiled in |
/// | `/status`  | JSON: every runtime's stats and the group's members |
/// | `/metrics` | Prometheus text format (`kstrand_` prefix, base units, labels `topic` and `partition`) |
/// | `/healthz` | 200 while the process serves |
/// | `/readyz`  | 200 when every runtime runs and has joined its group, else 503 |
///
/// Binds loopback unless told otherwise. Thread safety: every method may be
/// called from any thread. A runtime must stay alive until Remove()d or until
/// the server is destroyed.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "kstrand/runtime.h"
#include "kstrand/status.h"

namespace kstrand {

/// Serves the status pages, metrics and probes of the runtimes added to it.
class StatusServer {
 public:
  /// Starts serving on `listen`: "PORT" (on 127.0.0.1) or "HOST:PORT"; port 0
  /// picks a free one. Fails naming the address if it is malformed or cannot be bound.
  static Result<std::unique_ptr<StatusServer>> Start(std::string_view listen);
  /// Stops serving and joins the server thread.
  ~StatusServer();
  StatusServer(const StatusServer&) = delete;             ///< Not copyable: it owns a thread and a socket.
  StatusServer& operator=(const StatusServer&) = delete;  ///< Not copyable.

  /// Where it serves, e.g. "http://127.0.0.1:8080", with the port it bound.
  std::string url() const;

  /// Serves `runtime` from now on (its stats, and its group's members from
  /// their announcements). Set RuntimeConfig::endpoint to url() so the other
  /// members know where this one serves.
  void Add(const Runtime& runtime);
  /// Stops serving `runtime`; after this it may be destroyed.
  void Remove(const Runtime& runtime);

 private:
  class Impl;
  explicit StatusServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kstrand
