// Commit metadata codec: completions above the committed offset survive a
// round trip, fit Kafka's metadata limit, and anything else is rejected.
#include "runtime/offset_metadata.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace kstrand::runtime {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr size_t kUnlimited = std::numeric_limits<size_t>::max();

std::vector<int64_t> Range(int64_t first, int64_t last, int64_t step = 1) {
  std::vector<int64_t> out;
  for (int64_t o = first; o <= last; o += step) out.push_back(o);
  return out;
}

std::vector<int64_t> Prefix(const std::vector<int64_t>& v, size_t n) { return {v.begin(), v.begin() + n}; }

// Encodes without a size limit, decodes, and expects the input back.
void ExpectRoundTrip(int64_t committed, const std::vector<int64_t>& completed) {
  std::string metadata = EncodeCompletions(committed, completed, kUnlimited);
  Result<std::vector<int64_t>> decoded = DecodeCompletions(committed, metadata);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString() << " for " << metadata;
  EXPECT_EQ(*decoded, completed) << metadata;
}

// Independent of the codec: builds metadata from raw body bytes, for inputs the
// encoder would never write.
std::string Wrap(char kind, const std::vector<uint8_t>& body) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out = std::string("ks1") + kind;
  for (size_t i = 0; i < body.size(); i += 3) {
    uint32_t v = uint32_t{body[i]} << 16;
    if (i + 1 < body.size()) v |= uint32_t{body[i + 1]} << 8;
    if (i + 2 < body.size()) v |= body[i + 2];
    size_t chars = std::min<size_t>(body.size() - i, 3) + 1;
    for (size_t c = 0; c < chars; ++c) out.push_back(kAlphabet[(v >> (18 - 6 * c)) & 63]);
  }
  return out;
}

std::vector<uint8_t> Varint(uint64_t v) {
  std::vector<uint8_t> out;
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<uint8_t>(v | 0x80));
  out.push_back(static_cast<uint8_t>(v));
  return out;
}

std::vector<uint8_t> Concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

void ExpectRejected(int64_t committed, const std::string& metadata, const std::string& detail_part) {
  Result<std::vector<int64_t>> decoded = DecodeCompletions(committed, metadata);
  ASSERT_FALSE(decoded.ok()) << "accepted " << metadata;
  EXPECT_EQ(decoded.status().code(), make_error_code(Errc::kInvalidArgument));
  EXPECT_NE(decoded.status().detail().find(detail_part), std::string::npos)
      << "'" << decoded.status().detail() << "' lacks '" << detail_part << "'";
}

// Reference size model of the format, independent of the encoder's code.
size_t VarintSize(uint64_t v) { return Varint(v).size(); }
size_t ExpectedSize(int64_t committed, const std::vector<int64_t>& completed) {
  if (completed.empty()) return 0;
  auto rel = [&](size_t i) { return static_cast<uint64_t>(completed[i]) - static_cast<uint64_t>(committed) - 1; };
  uint64_t header = VarintSize(static_cast<uint64_t>(committed)) + VarintSize(completed.size());
  uint64_t run_length = header;
  uint64_t next = 0;
  for (size_t i = 0; i < completed.size();) {
    size_t j = i + 1;
    while (j < completed.size() && rel(j) == rel(j - 1) + 1) ++j;
    run_length += VarintSize(rel(i) - next) + VarintSize(j - i);
    next = rel(j - 1) + 1;
    i = j;
  }
  uint64_t bitmap = header + rel(completed.size() - 1) / 8 + 1;
  uint64_t body = std::min(run_length, bitmap);
  return 4 + (body * 4 + 2) / 3;
}

TEST(OffsetMetadataTest, NoCompletionsEncodeToTheEmptyString) {
  EXPECT_EQ(EncodeCompletions(42, {}), "");
  Result<std::vector<int64_t>> decoded = DecodeCompletions(42, "");
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->empty());
  // Empty metadata carries no committed offset to disagree with.
  EXPECT_TRUE(DecodeCompletions(7, "").ok());
}

TEST(OffsetMetadataTest, GoldenEncodingsPinTheFormat) {
  // Body 00 (committed 0) 01 (count) 01 (bitmap: offset 1) -> bitmap is smaller.
  EXPECT_EQ(EncodeCompletions(0, std::vector<int64_t>{1}), "ks1bAAEB");
  // Body 05 (committed 5) e807 (count 1000) 01 (gap: offset 6) e807 (run 7..1006).
  EXPECT_EQ(EncodeCompletions(5, Range(7, 1006)), "ks1rBegHAegH");
  ExpectRoundTrip(0, {1});
  ExpectRoundTrip(5, Range(7, 1006));
}

TEST(OffsetMetadataTest, SingleCompletionsRoundTrip) {
  ExpectRoundTrip(0, {1});
  ExpectRoundTrip(10, {11});
  ExpectRoundTrip(10, {12});
  ExpectRoundTrip(10, {1'000'010});
  ExpectRoundTrip(-1, {0});  // nothing committed yet
}

TEST(OffsetMetadataTest, DenseRunsRoundTrip) {
  ExpectRoundTrip(100, Range(101, 10'100));
  ExpectRoundTrip(100, Range(102, 10'100));
  std::vector<int64_t> runs = Range(1'001, 1'500);
  for (int64_t o : Range(2'000, 9'000)) runs.push_back(o);
  for (int64_t o : Range(9'002, 9'003)) runs.push_back(o);
  ExpectRoundTrip(1'000, runs);
}

TEST(OffsetMetadataTest, SparseCompletionsRoundTrip) {
  ExpectRoundTrip(0, Range(1'000, 1'000'000, 1'000));
  ExpectRoundTrip(500, Range(517, 50'000, 97));
}

TEST(OffsetMetadataTest, AlternatingPatternsRoundTrip) {
  ExpectRoundTrip(0, Range(2, 20'000, 2));
  ExpectRoundTrip(0, Range(1, 20'000, 2));
  ExpectRoundTrip(7, Range(9, 9'000, 3));
  std::vector<int64_t> pairs;  // two done, one open
  for (int64_t o = 1; o < 3'000; o += 3) {
    pairs.push_back(o);
    pairs.push_back(o + 1);
  }
  ExpectRoundTrip(0, pairs);
}

TEST(OffsetMetadataTest, LargeOffsetsRoundTrip) {
  const int64_t half = kInt64Max / 2;
  ExpectRoundTrip(half, {half + 1});
  ExpectRoundTrip(half, Range(half + 2, half + 5'000, 2));
  ExpectRoundTrip(half, Range(half + 1, half + 5'000));
  // The very top of the range: positions must not overflow.
  ExpectRoundTrip(kInt64Max - 10, {kInt64Max - 5, kInt64Max - 1, kInt64Max});
  ExpectRoundTrip(kInt64Max - 1, {kInt64Max});
  EXPECT_EQ(EncodeCompletions(kInt64Max, {}), "");
}

TEST(OffsetMetadataTest, BigGapsRoundTrip) {
  ExpectRoundTrip(0, {1, int64_t{1} << 20, int64_t{1} << 40, int64_t{1} << 62, kInt64Max});
  ExpectRoundTrip(5, {1'000'000'000'000, 1'000'000'000'001, 1'000'000'000'002, 2'000'000'000'000});
  // A bitmap over such gaps would be petabytes: run-length is the only choice.
  std::string metadata = EncodeCompletions(0, std::vector<int64_t>{1, int64_t{1} << 62});
  EXPECT_EQ(metadata[3], 'r');
  EXPECT_LT(metadata.size(), 32u);
}

TEST(OffsetMetadataTest, AlternatingCompletionsPickTheBitmap) {
  // 1000 completions at 2, 4, ..., 2000. Bitmap body: 00 + count (2 bytes) +
  // 250 bytes of bits = 253 -> 338 base64 chars. Run-length would need a
  // (gap, run) pair per completion: ~2000 bytes.
  std::string metadata = EncodeCompletions(0, Range(2, 2'000, 2));
  EXPECT_EQ(metadata.substr(0, 4), "ks1b");
  EXPECT_EQ(metadata.size(), 4u + 338u);
}

TEST(OffsetMetadataTest, LongRunsPickRunLength) {
  // Runs 2..5001 and 10002..15001. Run-length body: 00, count 10000 (2), gap 1 (1),
  // run 5000 (2), gap 5000 (2), run 5000 (2) = 10 bytes -> 14 chars. The bitmap
  // would need 1876 bytes.
  std::vector<int64_t> completed = Range(2, 5'001);
  for (int64_t o : Range(10'002, 15'001)) completed.push_back(o);
  std::string metadata = EncodeCompletions(0, completed);
  EXPECT_EQ(metadata.substr(0, 4), "ks1r");
  EXPECT_EQ(metadata.size(), 4u + 14u);
  ExpectRoundTrip(0, completed);
}

TEST(OffsetMetadataTest, ThirtyThousandAlternatingCompletionsTruncateToAFittingPrefix) {
  const int64_t committed = 1'000;
  std::vector<int64_t> completed = Range(committed + 2, committed + 60'000, 2);
  ASSERT_EQ(completed.size(), 30'000u);
  std::string metadata = EncodeCompletions(committed, completed);
  EXPECT_LE(metadata.size(), kMaxCommitMetadataBytes);
  EXPECT_EQ(metadata[3], 'b');
  Result<std::vector<int64_t>> decoded = DecodeCompletions(committed, metadata);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  // 4092 base64 chars = 3069 body bytes: 2 (committed) + 2 (count) + 3065 bitmap
  // bytes = 24520 positions, of which the odd ones (rel 1, 3, ...) are completed.
  ASSERT_EQ(decoded->size(), 12'260u);
  EXPECT_EQ(*decoded, Prefix(completed, decoded->size()));
  EXPECT_EQ(metadata.size(), kMaxCommitMetadataBytes);
  // Longest prefix: one more completion would not fit.
  EXPECT_GT(EncodeCompletions(committed, Prefix(completed, decoded->size() + 1), kUnlimited).size(),
            kMaxCommitMetadataBytes);
}

TEST(OffsetMetadataTest, TypicalBacklogSizes) {
  const int64_t committed = 5'000'000;  // a 4-byte varint
  // 20000 completions alternating with open offsets. Bitmap body: 4 + 3 (count)
  // + 5000 bytes for 40000 positions = 5007 -> 6676 chars: over the limit, which
  // keeps 4092 chars = 3069 body bytes = 6 + 3063 bitmap bytes = 24504 positions.
  std::vector<int64_t> alternating = Range(committed + 2, committed + 40'000, 2);
  EXPECT_EQ(EncodeCompletions(committed, alternating, kUnlimited).size(), 4u + 6'676u);
  std::string limited = EncodeCompletions(committed, alternating);
  EXPECT_EQ(limited.size(), kMaxCommitMetadataBytes);
  Result<std::vector<int64_t>> decoded = DecodeCompletions(committed, limited);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->size(), 24'504u / 2);
  // 20000 completions with every 100th offset open: 203 runs (202 of 99, one of
  // 2), each a 1-byte gap and a 1-byte run. Body: 4 + 3 + 406 = 413 -> 551 chars.
  std::vector<int64_t> one_percent_open;
  for (int64_t o = committed + 1; one_percent_open.size() < 20'000; ++o) {
    if ((o - committed) % 100 != 0) one_percent_open.push_back(o);
  }
  std::string metadata = EncodeCompletions(committed, one_percent_open);
  EXPECT_EQ(metadata[3], 'r');
  EXPECT_EQ(metadata.size(), 4u + 551u);
  ExpectRoundTrip(committed, one_percent_open);
}

TEST(OffsetMetadataTest, TooSmallALimitDropsEverything) {
  const std::vector<int64_t> one = {1};
  EXPECT_EQ(EncodeCompletions(0, one, 0), "");
  EXPECT_EQ(EncodeCompletions(0, one, 7), "");
  EXPECT_EQ(EncodeCompletions(0, one, 8), "ks1bAAEB");
  // Each limit yields the longest prefix that fits in it.
  std::vector<int64_t> completed = Range(2, 400, 3);
  for (size_t limit = 0; limit <= 200; ++limit) {
    std::string metadata = EncodeCompletions(0, completed, limit);
    ASSERT_LE(metadata.size(), limit);
    Result<std::vector<int64_t>> decoded = DecodeCompletions(0, metadata);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    ASSERT_EQ(*decoded, Prefix(completed, decoded->size()));
    if (decoded->size() < completed.size()) {
      EXPECT_GT(EncodeCompletions(0, Prefix(completed, decoded->size() + 1), kUnlimited).size(), limit);
    }
  }
}

TEST(OffsetMetadataTest, InputBreakingTheContractEndsTheEncodedPrefix) {
  // Listing an offset that did not complete would skip it for good; dropping
  // the rest only costs reprocessing.
  auto decode = [](int64_t committed, std::vector<int64_t> completed) {
    Result<std::vector<int64_t>> decoded = DecodeCompletions(committed, EncodeCompletions(committed, completed));
    return decoded.ok() ? *decoded : std::vector<int64_t>{-42};
  };
  EXPECT_EQ(decode(3, {5, 7, 6, 9}), (std::vector<int64_t>{5, 7}));
  EXPECT_EQ(decode(3, {5, 5, 6}), (std::vector<int64_t>{5}));
  EXPECT_EQ(decode(3, {3, 5}), (std::vector<int64_t>{}));
  EXPECT_EQ(decode(3, {1, 5}), (std::vector<int64_t>{}));
}

TEST(OffsetMetadataTest, MismatchedCommittedOffsetIsAnError) {
  std::string metadata = EncodeCompletions(100, Range(102, 200));
  ASSERT_TRUE(DecodeCompletions(100, metadata).ok());
  ExpectRejected(101, metadata, "written for committed offset 100, but the committed offset is 101");
  ExpectRejected(99, metadata, "offsets reset");
  ExpectRejected(0, metadata, "100");
  ExpectRejected(-1, metadata, "100");
}

TEST(OffsetMetadataTest, ForeignMetadataIsAnError) {
  ExpectRejected(0, "hello", "not written by kstrand");
  ExpectRejected(0, "{\"owner\":\"svc-a\"}", "not written by kstrand");
  ExpectRejected(0, "k", "not written by kstrand");
  ExpectRejected(0, "ks", "not written by kstrand");
  ExpectRejected(0, "ks2bAAEB", "not written by kstrand");
  ExpectRejected(0, "KS1bAAEB", "not written by kstrand");
  ExpectRejected(0, std::string("\0\xff\x01", 3), "\\x00\\xff\\x01");
  ExpectRejected(0, "ks1", "truncated");
  ExpectRejected(0, "ks1xAAEB", "unknown body kind 'x'");
  ExpectRejected(0, "ks1", "truncated");
  ExpectRejected(0, "ks1b", "truncated");
  ExpectRejected(0, "ks1r", "truncated");
}

TEST(OffsetMetadataTest, EveryTruncationIsAnError) {
  std::vector<std::pair<int64_t, std::vector<int64_t>>> cases = {
      {0, {1}},
      {5, Range(7, 1'006)},
      {1'000, Range(1'002, 3'000, 2)},
      {1'000, Range(1'002, 3'000, 7)},
      {kInt64Max / 2, Range(kInt64Max / 2 + 1, kInt64Max / 2 + 500, 3)},
  };
  for (const auto& [committed, completed] : cases) {
    std::string metadata = EncodeCompletions(committed, completed);
    ASSERT_TRUE(DecodeCompletions(committed, metadata).ok());
    for (size_t len = 1; len < metadata.size(); ++len) {
      EXPECT_FALSE(DecodeCompletions(committed, metadata.substr(0, len)).ok()) << metadata.substr(0, len);
    }
  }
}

TEST(OffsetMetadataTest, BadBase64IsAnError) {
  ExpectRejected(0, "ks1bAA+B", "not url-safe base64");
  ExpectRejected(0, "ks1bAA/B", "not url-safe base64");
  ExpectRejected(0, "ks1bAAEB==", "not url-safe base64");
  ExpectRejected(0, "ks1bAA B", "not url-safe base64");
  ExpectRejected(0, "ks1bAA\xc3\xa9", "not url-safe base64");
  ExpectRejected(0, "ks1bAAEBA", "truncated");           // 9 chars cannot come from whole bytes
  ExpectRejected(0, "ks1bAAF", "non-zero unused bits");  // "AAE" would be 00 01
}

TEST(OffsetMetadataTest, HandBuiltBodiesCheckEveryField) {
  // The test's own encoder agrees with the codec on a valid body.
  ASSERT_EQ(Wrap('b', {0x00, 0x01, 0x01}), "ks1bAAEB");
  ASSERT_EQ(Wrap('r', Concat({Varint(5), Varint(1'000), Varint(1), Varint(1'000)})), "ks1rBegHAegH");

  // Varints: more than 10 bytes, a tenth byte above bit 63, non-minimal, cut.
  ExpectRejected(0, Wrap('r', std::vector<uint8_t>(11, 0x80)), "overlong varint");
  ExpectRejected(0, Wrap('r', Concat({std::vector<uint8_t>(9, 0xff), {0x02}})), "overlong varint");
  ExpectRejected(0, Wrap('r', {0x80, 0x00, 0x01, 0x00, 0x01}), "non-minimal varint");
  ExpectRejected(0, Wrap('r', {0x00, 0x01, 0x80}), "truncated in a gap");
  ExpectRejected(0, Wrap('r', {0x00, 0x01, 0x00}), "truncated in a run length");
  ExpectRejected(0, Wrap('r', {0x00}), "truncated in the completion count");
  // A negative committed offset uses all ten bytes and still round-trips.
  ASSERT_TRUE(DecodeCompletions(-1, Wrap('r', Concat({Varint(~uint64_t{0}), {0x01, 0x00, 0x01}}))).ok());

  // Count: zero, above the cap, or disagreeing with the payload.
  ExpectRejected(0, Wrap('r', {0x00, 0x00}), "lists no completions");
  ExpectRejected(0, Wrap('r', Concat({{0x00}, Varint((1 << 20) + 1), {0x00}, Varint((1 << 20) + 1)})),
                 "more than the limit");
  ExpectRejected(0, Wrap('r', {0x00, 0x02, 0x00, 0x01}), "truncated: lists 1 of 2");
  ExpectRejected(0, Wrap('r', {0x00, 0x01, 0x00, 0x02}), "more completions than its count");
  ExpectRejected(0, Wrap('b', {0x00, 0x01, 0x03}), "more completions than its count");
  ExpectRejected(0, Wrap('b', {0x00, 0x03, 0x03}), "truncated: lists 2 of 3");
  ExpectRejected(0, Wrap('b', {0x00, 0x09, 0xff}), "more completions than its bitmap holds");
  // A huge run cannot make the decoder allocate: the count bounds it.
  ExpectRejected(0, Wrap('r', Concat({{0x00, 0x01, 0x00}, Varint(uint64_t{1} << 62)})), "more completions");
  // The cap itself is accepted.
  Result<std::vector<int64_t>> at_cap =
      DecodeCompletions(0, Wrap('r', Concat({{0x00}, Varint(1 << 20), {0x00}, Varint(1 << 20)})));
  ASSERT_TRUE(at_cap.ok()) << at_cap.status().ToString();
  EXPECT_EQ(at_cap->size(), kMaxDecodedCompletions);

  // Non-canonical payloads.
  ExpectRejected(0, Wrap('r', {0x00, 0x02, 0x00, 0x01, 0x00, 0x01}), "empty gap between two runs");
  ExpectRejected(0, Wrap('r', {0x00, 0x01, 0x00, 0x00, 0x00, 0x01}), "empty run");
  ExpectRejected(0, Wrap('b', {0x00, 0x01, 0x01, 0x00}), "ends in a zero byte");
  ExpectRejected(0, Wrap('b', {0x00, 0x01}), "bitmap is empty");

  // Offsets past INT64_MAX.
  ExpectRejected(kInt64Max - 1, Wrap('b', Concat({Varint(kInt64Max - 1), {0x01, 0x02}})), "beyond the int64 range");
  ExpectRejected(kInt64Max - 1, Wrap('r', Concat({Varint(kInt64Max - 1), {0x02, 0x00, 0x02}})),
                 "beyond the int64 range");
  ExpectRejected(kInt64Max, Wrap('r', Concat({Varint(kInt64Max), {0x01, 0x00, 0x01}})), "beyond the int64 range");
  ExpectRejected(0, Wrap('r', Concat({{0x00, 0x01}, Varint(~uint64_t{0}), {0x01}})), "beyond the int64 range");
}

// Decoded output, when accepted, is always a valid completion list.
void ExpectSaneOrRejected(int64_t committed, const std::string& metadata) {
  Result<std::vector<int64_t>> decoded = DecodeCompletions(committed, metadata);
  if (!decoded.ok()) {
    EXPECT_EQ(decoded.status().code(), make_error_code(Errc::kInvalidArgument));
    return;
  }
  int64_t last = committed;
  for (int64_t o : *decoded) {
    ASSERT_GT(o, last) << metadata;
    last = o;
  }
  EXPECT_LE(decoded->size(), kMaxDecodedCompletions);
}

TEST(OffsetMetadataTest, RandomAndMutatedInputNeverCrashes) {
  std::mt19937_64 rng(0x6b73'6d65'7461);
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (int i = 0; i < 3'000; ++i) {
    // Random bytes, random base64 after a valid header, and valid metadata with one character changed.
    std::string bytes(rng() % 40, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    ExpectSaneOrRejected(0, bytes);

    std::string text = (rng() % 2 ? "ks1r" : "ks1b");
    for (size_t n = rng() % 60; n > 0; --n) text.push_back(alphabet[rng() % alphabet.size()]);
    ExpectSaneOrRejected(static_cast<int64_t>(rng() % 3), text);

    const int64_t committed = static_cast<int64_t>(rng() % 1'000);
    std::vector<int64_t> completed;
    for (int64_t o = committed + 1, n = static_cast<int64_t>(rng() % 200); n > 0; --n) {
      completed.push_back(o);
      o += 1 + static_cast<int64_t>(rng() % 4);
    }
    std::string metadata = EncodeCompletions(committed, completed);
    if (metadata.empty()) continue;
    metadata[rng() % metadata.size()] = alphabet[rng() % alphabet.size()];
    ExpectSaneOrRejected(committed, metadata);
  }
}

TEST(OffsetMetadataTest, RandomizedRoundTripWithinLimits) {
  std::mt19937_64 rng(20'240'601);
  const std::vector<size_t> limits = {0, 4, 8, 9, 12, 16, 33, 100, 512, 1'000, kMaxCommitMetadataBytes, kUnlimited};
  const std::vector<double> densities = {0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 1.0};
  for (int i = 0; i < 3'000; ++i) {
    int64_t committed = 0;
    switch (rng() % 4) {
      case 0: committed = static_cast<int64_t>(rng() % 100); break;
      case 1: committed = static_cast<int64_t>(rng() % 1'000'000'000'000); break;
      case 2: committed = kInt64Max / 2 + static_cast<int64_t>(rng() % 1'000); break;
      default: committed = kInt64Max - 100'000 - static_cast<int64_t>(rng() % 1'000); break;
    }
    // Each offset is completed with probability `density`; now and then a large
    // gap stands for a long stretch still in flight.
    std::geometric_distribution<int64_t> open_before(densities[rng() % densities.size()]);
    std::bernoulli_distribution big_gap(0.002);
    const size_t n = rng() % 3 == 0 ? rng() % 20 : rng() % 4'000;
    std::vector<int64_t> completed;
    for (int64_t o = committed; completed.size() < n;) {
      int64_t step = 1 + open_before(rng) + (big_gap(rng) ? static_cast<int64_t>(rng() % 50'000) : 0);
      if (o > kInt64Max - step) break;
      o += step;
      completed.push_back(o);
    }
    const size_t limit = limits[rng() % limits.size()];

    std::string metadata = EncodeCompletions(committed, completed, limit);
    ASSERT_LE(metadata.size(), limit);
    Result<std::vector<int64_t>> decoded = DecodeCompletions(committed, metadata);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString() << " case " << i;
    ASSERT_LE(decoded->size(), completed.size());
    ASSERT_EQ(*decoded, Prefix(completed, decoded->size())) << "case " << i;
    if (decoded->size() < completed.size()) {
      // Longest prefix: the next completion would have pushed it over the limit.
      ASSERT_GT(EncodeCompletions(committed, Prefix(completed, decoded->size() + 1), kUnlimited).size(), limit)
          << "case " << i;
    }
    // The smaller of the two encodings, as the reference size model computes it.
    ASSERT_EQ(metadata.size(), ExpectedSize(committed, *decoded)) << "case " << i;
  }
}

}  // namespace
}  // namespace kstrand::runtime
