/// @file
/// @brief Process-wide SIGINT/SIGTERM handling: the first signal asks for a
/// graceful shutdown (drain, commit, leave the group); a second one exits at once.
///
/// Call InstallShutdownSignals() once from main before starting runtimes; then
/// poll ShutdownRequested() or block in WaitForShutdown(). Safe from any thread.
#pragma once

#include <chrono>

namespace kstrand {

/// Installs the SIGINT and SIGTERM handlers; call once, from main.
void InstallShutdownSignals();
/// True once a shutdown was requested, by a signal or RequestShutdown().
bool ShutdownRequested();
/// Returns true when a shutdown was requested, false when `timeout` passed first.
bool WaitForShutdown(std::chrono::milliseconds timeout);
/// Ask for a shutdown from code (as if a first signal arrived).
void RequestShutdown();

}  // namespace kstrand
