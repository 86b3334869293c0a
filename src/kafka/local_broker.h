// The embedded broker that `kstrand broker` runs on this machine, as other
// programs find it: the broker records its bootstrap address and its control
// channel (an HTTP endpoint for what the mock has no Kafka API for, such as
// creating topics) in a state file, and removes the file when it stops.
//
// One place resolves a `brokers` setting: an empty one means that broker.
// The CLI's -b, and the public clients' `brokers` fields (Producer, Admin,
// GlobalTable), all go through ResolveBrokers.
//
// Thread safety: plain functions.
#pragma once

#include <optional>
#include <string>

#include "kstrand/status.h"

namespace kstrand::kafka {

// Where `kstrand broker` records its addresses: $XDG_RUNTIME_DIR (or /tmp)
// /kstrand-broker-<uid>.json.
std::string LocalBrokerStateFile();

struct LocalBroker {
  std::string bootstrap;
  std::string control;  // "http://127.0.0.1:PORT", empty if not recorded
};

// The broker recorded in the state file, if one is.
std::optional<LocalBroker> FindLocalBroker();

struct ResolvedBrokers {
  std::string bootstrap;
  bool embedded = false;  // the brokers are the local embedded broker
  std::string control;    // its control channel, when embedded
};

// `brokers`, or the local embedded broker when empty (kInvalidArgument saying
// how to start one when none runs). `embedded` is set whenever the bootstrap
// is the local embedded broker's, given or found.
Result<ResolvedBrokers> ResolveBrokers(const std::string& brokers);

// Creates a topic through the embedded broker's control channel.
Status CreateTopicThroughControl(const std::string& control, const std::string& topic, int partitions);

}  // namespace kstrand::kafka
