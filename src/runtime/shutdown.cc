#include "kstrand/shutdown.h"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <thread>

namespace kstrand {
namespace {

std::atomic<int> g_signals{0};  // lock-free, so safe to touch from a signal handler

void OnSignal(int sig) {
  if (g_signals.fetch_add(1) >= 1) _exit(128 + sig);  // second signal: exit at once
}

}  // namespace

void InstallShutdownSignals() {
  struct sigaction sa {};
  sa.sa_handler = &OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool ShutdownRequested() { return g_signals.load() > 0; }

void RequestShutdown() {
  int expected = 0;
  g_signals.compare_exchange_strong(expected, 1);
}

bool WaitForShutdown(std::chrono::milliseconds timeout) {
  // A signal handler can not notify a condition variable, so poll briefly.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ShutdownRequested()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace kstrand
