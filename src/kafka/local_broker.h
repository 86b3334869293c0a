// Which broker a client talks to, and the client properties an embedded broker
// needs. One resolution for every client kstrand makes (Runtime, Router,
// GroupInspector, the producers and admin clients, the CLI):
//
// - An empty `brokers` means the embedded broker a `kstrand broker` process
//   recorded in BrokerStateFile() (what the CLI does with no -b); an error says
//   how to start one when none runs.
// - Brokers that are an embedded broker (that recorded one, or an
//   EmbeddedCluster running in this process) are marked `embedded`: a group
//   member there gets EmbeddedCluster::ClientProperties() underneath its own
//   properties. Without them it runs the classic protocol with Kafka's
//   timeouts, and the mock makes a restarted member wait ~44 s for its
//   partitions while its 5 MB retention drops the backlog.
//
// Thread safety: every function may be called from any thread.
#pragma once

#include <string>

#include "kafka/client.h"
#include "kstrand/status.h"

namespace kstrand::kafka {

// Where `kstrand broker` records {"bootstrap", "control", "pid"} for the
// other processes of this user: $XDG_RUNTIME_DIR, else /tmp.
std::string BrokerStateFile();

// The process-wide set of running EmbeddedClusters' addresses: Start()
// registers a cluster's bootstrap, its destructor unregisters it.
void RegisterEmbeddedBroker(const std::string& bootstrap);
void UnregisterEmbeddedBroker(const std::string& bootstrap);

struct BrokerTarget {
  std::string bootstrap;  // bootstrap.servers to use
  bool embedded = false;  // every address is an embedded broker's
  std::string control;    // the recorded broker's control URL, if it is that one
};

// `brokers` as a user gave it (see the top of this file). Fails with
// kInvalidArgument when it is empty and no `kstrand broker` runs.
Result<BrokerTarget> ResolveBrokers(const std::string& brokers);

// `kafka` over the embedded broker's consumer properties: the set of
// EmbeddedCluster::ClientProperties() for kafka's group.protocol (KIP-848 when
// unset). The user's properties win.
Properties EmbeddedConsumerProperties(const Properties& kafka);

// For a group member: resolves `*brokers` and, on an embedded broker, puts
// `*kafka` over EmbeddedConsumerProperties.
Status ResolveMemberConnection(std::string* brokers, Properties* kafka);
// Creates a topic through a `kstrand broker`'s control channel (BrokerTarget::
// control): the mock has no CreateTopics API.
Status CreateTopicThroughControl(const std::string& control, const std::string& topic, int partitions);

}  // namespace kstrand::kafka
