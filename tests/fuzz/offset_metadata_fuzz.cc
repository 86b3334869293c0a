// The commit-metadata codec (runtime/offset_metadata.h). The metadata comes
// from the broker, and anyone with access to the group can write it, so:
//   - decoding arbitrary text never crashes, and an error says what was wrong;
//   - what decodes is a valid completion list, and re-encoding it gives the
//     canonical form: no longer than the input, byte-identical when of the same kind;
//   - encoding any valid list decodes to that list (or, under a size cap, to its
//     longest prefix that fits the cap).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "check.h"
#include "runtime/offset_metadata.h"

namespace {

using kstrand::runtime::DecodeCompletions;
using kstrand::runtime::EncodeCompletions;
constexpr size_t kUnbounded = std::numeric_limits<size_t>::max();

bool ValidCompletions(int64_t committed, const std::vector<int64_t>& completed) {
  int64_t lower = committed;
  for (int64_t offset : completed) {
    if (offset <= lower) return false;
    lower = offset;
  }
  return true;
}

void DecodeArbitrary(int64_t committed, const std::string& metadata) {
  auto decoded = DecodeCompletions(committed, metadata);
  if (!decoded.ok()) {
    FUZZ_CHECK(decoded.status().code() == make_error_code(kstrand::Errc::kInvalidArgument));
    FUZZ_CHECK(decoded.status().detail().starts_with("commit metadata: "));
    return;
  }
  FUZZ_CHECK(ValidCompletions(committed, *decoded));
  FUZZ_CHECK(decoded->size() <= kstrand::runtime::kMaxDecodedCompletions);
  FUZZ_CHECK(metadata.empty() == decoded->empty());
  // The input was one kind's canonical form, and the encoder picks the
  // shorter kind: everything fits in the input's own length.
  std::string again = EncodeCompletions(committed, *decoded, metadata.size());
  FUZZ_CHECK(again.size() <= metadata.size());
  if (!again.empty() && again[3] == metadata[3]) FUZZ_CHECK(again == metadata);
  auto round_trip = DecodeCompletions(committed, again);
  FUZZ_CHECK(round_trip.ok() && *round_trip == *decoded);
}

void EncodeStructured(FuzzedDataProvider& in, int64_t committed) {
  const size_t max_bytes = in.ConsumeBool() ? kUnbounded : in.ConsumeIntegralInRange<size_t>(0, 8192);
  // Offsets above `committed`: mostly short steps (runs and small gaps, what
  // key ordering leaves), sometimes far jumps.
  std::vector<int64_t> completed;
  const size_t count = in.ConsumeIntegralInRange<size_t>(0, 5000);
  uint64_t last = static_cast<uint64_t>(committed);
  while (completed.size() < count && in.remaining_bytes() > 0) {
    const uint64_t step = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint64_t>(1, 3)
                                           : in.ConsumeIntegralInRange<uint64_t>(1, uint64_t{1} << in.ConsumeIntegralInRange(0, 62));
    if (step > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - last) break;
    last += step;
    completed.push_back(static_cast<int64_t>(last));
  }
  // A caller that breaks the contract (an entry not above its predecessor):
  // the encoder must drop it and everything after it, never list it.
  const bool broken = in.ConsumeBool();
  std::vector<int64_t> valid = completed;
  if (broken) completed.push_back(in.ConsumeIntegral<int64_t>());
  if (!ValidCompletions(committed, completed)) FUZZ_CHECK(broken);
  if (ValidCompletions(committed, completed)) valid = completed;

  std::string encoded = EncodeCompletions(committed, completed, max_bytes);
  FUZZ_CHECK(encoded.size() <= max_bytes);
  auto decoded = DecodeCompletions(committed, encoded);
  FUZZ_CHECK(decoded.ok());
  FUZZ_CHECK(decoded->size() <= valid.size());
  FUZZ_CHECK(std::equal(decoded->begin(), decoded->end(), valid.begin()));
  if (max_bytes == kUnbounded) {
    FUZZ_CHECK(*decoded == valid);
  } else if (decoded->size() < valid.size()) {
    // The longest prefix: one more completion would not have fit.
    std::span<const int64_t> longer(valid.data(), decoded->size() + 1);
    FUZZ_CHECK(EncodeCompletions(committed, longer, kUnbounded).size() > max_bytes);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const bool structured = in.ConsumeBool();
  // Small committed offsets are the common case; any int64 must work.
  const int64_t committed = in.ConsumeBool() ? in.ConsumeIntegralInRange<int64_t>(-1, 1000)
                                             : in.ConsumeIntegral<int64_t>();
  if (structured) {
    EncodeStructured(in, committed);
  } else {
    DecodeArbitrary(committed, in.ConsumeRemainingBytesAsString());
  }
  return 0;
}
