// Which broker a client talks to, and the client properties an embedded broker
// needs. One resolution for every client kstrand makes (Runtime, Router,
// GroupInspector, the producers and admin clients, the CLI):
//
// - An empty `brokers` means the embedded broker a `kstrand broker` process
//   recorded (what the CLI does with no -b). Each `kstrand broker` records
//   itself in a file of its own (BrokerRecordFile); with none running, or
//   several, the error says which were found and how to choose.
// - Brokers that are an embedded broker (that recorded one, or an
//   EmbeddedCluster running in this process) are marked `embedded`: a group
//   member there gets EmbeddedCluster::ClientProperties() underneath its own
//   properties. Without them it runs the classic protocol with Kafka's
//   timeouts, and the mock makes a restarted member wait ~44 s for its
//   partitions while its 5 MB retention drops the backlog.
//
// Thread safety: every function may be called from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/client.h"
#include "kstrand/status.h"

namespace kstrand::kafka {

// Where the `kstrand broker` of process `pid` records {"bootstrap",
// "control", "pid"} for the other processes of this user:
// kstrand-broker-<uid>-<pid>.json in $XDG_RUNTIME_DIR, else /tmp.
std::string BrokerRecordFile(int64_t pid);

struct RecordedBroker {
  std::string bootstrap;
  std::string control;  // its control channel's URL
  int64_t pid = 0;
};

// The `kstrand broker`s of this user that are running, by pid. A record whose
// process is gone (killed without its cleanup) is skipped.
std::vector<RecordedBroker> RecordedBrokers();

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
// kInvalidArgument when it is empty and not exactly one `kstrand broker`
// runs; the message calls the setting `option` ("-b" for the CLI).
Result<BrokerTarget> ResolveBrokers(const std::string& brokers, std::string_view option = "brokers");

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
