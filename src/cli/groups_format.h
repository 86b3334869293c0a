// What `kstrand groups describe` prints: tables laid out like
// `kafka-consumer-groups.sh --describe` (offsets, and --members) and the
// GroupDescription as JSON. Pure functions of a GroupDescription, so tests
// check the output without a broker. Thread-safe (no shared state).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "kstrand/groups.h"

namespace kstrand::cli {

// One line: the group's state, its member count and where the members came
// from (naming `members_topic` for announcements), and the total lag.
std::string GroupSummary(const GroupDescription& group, std::string_view members_topic);

// GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST
// CLIENT-ID, one row per partition; '-' for what is not known.
std::string FormatOffsetsTable(const GroupDescription& group);

// GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS ASSIGNMENT, plus ENDPOINT when
// a member advertises one; one row per member.
std::string FormatMembersTable(const GroupDescription& group);

// Every field of the description; unknown offsets and lags (-1) and an empty
// owner or endpoint are null.
nlohmann::json GroupToJson(const GroupDescription& group);

}  // namespace kstrand::cli
