// Commit metadata that carries the offsets completed above the committed one.
//
// The committed offset stops at the first incomplete message, so with key order
// (or one slow message) a commit can leave thousands of finished messages above
// it. Without this record the next owner of the partition processes all of them
// again; with it, the next owner skips the ones listed. The record travels in
// the commit's metadata string, which Kafka stores next to the offset and caps
// at offset.metadata.max.bytes (4096 by default).
//
// Format (printable ASCII, since Kafka metadata is a string):
//   "ks1" <kind> base64url(body)        kind 'r' = run-length, 'b' = bitmap
//   body   = varint(committed) varint(count) payload
//   'r'    payload = (varint(gap) varint(run))..., one pair per run of consecutive
//                    completed offsets; gap counts the incomplete offsets before the
//                    run, starting at committed + 1 (only the first gap may be 0)
//   'b'    payload = bitmap, bit i (LSB first within each byte) set when offset
//                    committed + 1 + i is completed; the last byte is non-zero
// varint is unsigned LEB128 (committed as its two's-complement bit pattern),
// minimal length. base64url uses '-' and '_', no padding, zero unused bits.
// `count` makes every truncation detectable and bounds the decoder's allocation.
// The decoder accepts only this canonical form.
//
// Thread safety: free functions without shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kstrand/status.h"

namespace kstrand::runtime {

// Kafka's default offset.metadata.max.bytes.
inline constexpr size_t kMaxCommitMetadataBytes = 4096;
// The decoder rejects metadata listing more completions than this, so hostile
// metadata cannot make it allocate without bound (4096 bytes of bitmap hold ~24000).
inline constexpr size_t kMaxDecodedCompletions = size_t{1} << 20;

// `committed` is the offset being committed (the first incomplete one); `completed` holds offsets
// already processed above it, sorted ascending, all > committed. Returns metadata of at most
// `max_bytes` bytes. When not all completions fit, it encodes the longest prefix (lowest offsets)
// that fits: offsets left out are merely processed again by the next owner. No completions -> "".
// An entry that breaks the contract (not above `committed`, not above its predecessor) ends the
// input there: dropping completions is always safe, listing a wrong one is not.
std::string EncodeCompletions(int64_t committed, std::span<const int64_t> completed,
                              size_t max_bytes = kMaxCommitMetadataBytes);

// The inverse. "" -> empty vector. Metadata that kstrand did not write, that is malformed or
// truncated, or that was written for a different committed offset (e.g. after an operator reset
// the group's offsets) -> an error Status (Errc::kInvalidArgument) whose text says what was wrong.
// Never crashes; never allocates more than the input's size plus kMaxDecodedCompletions offsets.
Result<std::vector<int64_t>> DecodeCompletions(int64_t committed, std::string_view metadata);

}  // namespace kstrand::runtime
