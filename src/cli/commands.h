// Registration of the kstrand subcommands. Each Add*Command adds its flags and,
// when chosen, hands main() the function that runs it and returns the exit code.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace kstrand::cli {

using SetAction = std::function<void(std::function<int()>)>;

void AddBrokerCommand(CLI::App& app, SetAction set_action);
void AddProduceCommand(CLI::App& app, SetAction set_action);
void AddConsumeCommand(CLI::App& app, SetAction set_action);
void AddDemoCommand(CLI::App& app, SetAction set_action);
void AddTopicsCommand(CLI::App& app, SetAction set_action);
void AddGroupsCommand(CLI::App& app, SetAction set_action);

}  // namespace kstrand::cli
