#include "runtime/offset_metadata.h"

#include <algorithm>
#include <array>
#include <limits>

namespace kstrand::runtime {
namespace {

constexpr std::string_view kMagic = "ks1";
constexpr char kRunLength = 'r';
constexpr char kBitmap = 'b';
constexpr size_t kHeaderChars = kMagic.size() + 1;  // magic + kind
constexpr size_t kMaxVarintBytes = 10;              // ceil(64 / 7)

constexpr std::string_view kBase64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// -1 for characters outside the alphabet.
constexpr std::array<int8_t, 256> MakeBase64Values() {
  std::array<int8_t, 256> values{};
  values.fill(-1);
  for (size_t i = 0; i < kBase64Alphabet.size(); ++i) {
    values[static_cast<unsigned char>(kBase64Alphabet[i])] = static_cast<int8_t>(i);
  }
  return values;
}
constexpr std::array<int8_t, 256> kBase64Values = MakeBase64Values();

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

void PutVarint(std::string& out, uint64_t v) {
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>((v & 0x7f) | 0x80));
  out.push_back(static_cast<char>(v));
}

// Characters of the whole metadata for a body of `body_bytes` bytes. Saturates
// instead of overflowing: a bitmap for offsets far apart is "infinitely" large.
uint64_t MetadataSize(uint64_t body_bytes) {
  if (body_bytes > (uint64_t{1} << 60)) return std::numeric_limits<uint64_t>::max();
  return kHeaderChars + (body_bytes * 4 + 2) / 3;
}

void Base64Append(std::string& out, std::string_view bytes) {
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kBase64Alphabet[(v >> shift) & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest == 0) return;
  uint32_t v = at(i) << 16 | (rest == 2 ? at(i + 1) << 8 : 0);
  out.push_back(kBase64Alphabet[(v >> 18) & 63]);
  out.push_back(kBase64Alphabet[(v >> 12) & 63]);
  if (rest == 2) out.push_back(kBase64Alphabet[(v >> 6) & 63]);
}

Status Invalid(std::string what) { return Status(Errc::kInvalidArgument, "commit metadata: " + std::move(what)); }

// The start of untrusted text, safe to put in a log line.
std::string Excerpt(std::string_view text) {
  constexpr size_t kMax = 24;
  std::string out = "'";
  for (char c : text.substr(0, kMax)) {
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out.push_back(c);
    } else {
      constexpr std::string_view kHex = "0123456789abcdef";
      auto u = static_cast<unsigned char>(c);
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  out += text.size() > kMax ? "'..." : "'";
  return out;
}

// Strict: rejects characters outside the alphabet, a length that cannot come
// from whole bytes, and non-zero unused bits, so each body has one spelling.
Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 == 1) {
    return Invalid("base64 body of " + std::to_string(text.size()) + " characters is truncated");
  }
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    int8_t v = kBase64Values[static_cast<unsigned char>(text[i])];
    if (v < 0) {
      return Invalid("character " + Excerpt(text.substr(i, 1)) + " at body position " + std::to_string(i) +
                     " is not url-safe base64");
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if ((acc & ((1u << bits) - 1)) != 0) return Invalid("base64 body has non-zero unused bits (damaged?)");
  return out;
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  bool done() const { return pos_ == bytes_.size(); }
  std::string_view rest() const { return bytes_.substr(pos_); }

  // Unsigned LEB128 of minimal length; `what` names the field for the error.
  Result<uint64_t> Varint(const char* what) {
    uint64_t v = 0;
    for (size_t i = 0; i < kMaxVarintBytes; ++i) {
      if (pos_ == bytes_.size()) return Invalid(std::string("truncated in ") + what);
      auto b = static_cast<uint8_t>(bytes_[pos_++]);
      // The tenth byte holds bit 63 only; anything more does not fit 64 bits.
      if (i == kMaxVarintBytes - 1 && b > 1) return Invalid(std::string("overlong varint in ") + what);
      v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) {
        if (i > 0 && b == 0) return Invalid(std::string("non-minimal varint in ") + what);
        return v;
      }
    }
    return Invalid(std::string("overlong varint in ") + what);  // unreachable: the tenth byte ends it
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

}  // namespace

std::string EncodeCompletions(int64_t committed, std::span<const int64_t> completed, size_t max_bytes) {
  // Offsets as positions above the committed one: rel = offset - committed - 1.
  // Unsigned arithmetic, so offsets near both ends of int64 cannot overflow.
  auto rel = [&](size_t i) { return static_cast<uint64_t>(completed[i]) - static_cast<uint64_t>(committed) - 1; };

  // Largest prefix that fits, found in one pass: both encodings only grow with
  // the prefix, so the first prefix that fits neither ends the search.
  size_t best_count = 0;
  char best_kind = kRunLength;
  const size_t committed_bytes = VarintSize(static_cast<uint64_t>(committed));
  uint64_t closed_pairs_bytes = 0;  // (gap, run) pairs before the current run
  uint64_t gap = 0;                 // incomplete offsets before the current run
  uint64_t run = 0;                 // length of the current run
  for (size_t i = 0; i < completed.size(); ++i) {
    int64_t lower = i == 0 ? committed : completed[i - 1];
    if (completed[i] <= lower) break;  // broken contract: keep only what came before
    if (i == 0) {
      gap = rel(0);
      run = 1;
    } else if (rel(i) == rel(i - 1) + 1) {
      ++run;
    } else {
      closed_pairs_bytes += VarintSize(gap) + VarintSize(run);
      gap = rel(i) - rel(i - 1) - 1;
      run = 1;
    }
    uint64_t header_bytes = committed_bytes + VarintSize(i + 1);
    uint64_t run_length = MetadataSize(header_bytes + closed_pairs_bytes + VarintSize(gap) + VarintSize(run));
    uint64_t bitmap = MetadataSize(header_bytes + rel(i) / 8 + 1);
    if (std::min(run_length, bitmap) > max_bytes) break;
    best_count = i + 1;
    best_kind = run_length <= bitmap ? kRunLength : kBitmap;
  }
  if (best_count == 0) return "";

  std::string body;
  PutVarint(body, static_cast<uint64_t>(committed));
  PutVarint(body, best_count);
  if (best_kind == kRunLength) {
    uint64_t next = 0;  // first position not yet described
    for (size_t i = 0; i < best_count;) {
      size_t j = i + 1;
      while (j < best_count && rel(j) == rel(j - 1) + 1) ++j;
      PutVarint(body, rel(i) - next);
      PutVarint(body, j - i);
      next = rel(j - 1) + 1;
      i = j;
    }
  } else {
    size_t payload_start = body.size();
    body.resize(payload_start + rel(best_count - 1) / 8 + 1, '\0');
    for (size_t i = 0; i < best_count; ++i) {
      uint64_t r = rel(i);
      char& byte = body[payload_start + r / 8];
      byte = static_cast<char>(static_cast<uint8_t>(byte) | 1u << (r % 8));
    }
  }

  std::string out(kMagic);
  out.push_back(best_kind);
  Base64Append(out, body);
  return out;
}

Result<std::vector<int64_t>> DecodeCompletions(int64_t committed, std::string_view metadata) {
  if (metadata.empty()) return std::vector<int64_t>{};
  if (!metadata.starts_with(kMagic)) {
    return Invalid(Excerpt(metadata) + " was not written by kstrand (no '" + std::string(kMagic) + "' prefix)");
  }
  if (metadata.size() == kMagic.size()) return Invalid("truncated after the '" + std::string(kMagic) + "' prefix");
  const char kind = metadata[kMagic.size()];
  if (kind != kRunLength && kind != kBitmap) {
    return Invalid("unknown body kind " + Excerpt(metadata.substr(kMagic.size(), 1)));
  }
  Result<std::string> body = Base64Decode(metadata.substr(kHeaderChars));
  if (!body.ok()) return body.status();
  Reader in(*body);

  Result<uint64_t> written_for = in.Varint("the committed offset");
  if (!written_for.ok()) return written_for.status();
  if (static_cast<int64_t>(*written_for) != committed) {
    // Typically an operator moved the group's offsets: the completions belong
    // to a position the group no longer resumes from.
    return Invalid("written for committed offset " + std::to_string(static_cast<int64_t>(*written_for)) +
                   ", but the committed offset is " + std::to_string(committed) + " (offsets reset?)");
  }
  Result<uint64_t> count = in.Varint("the completion count");
  if (!count.ok()) return count.status();
  if (*count == 0) return Invalid("lists no completions (kstrand writes \"\" for none)");
  if (*count > kMaxDecodedCompletions) {
    return Invalid("lists " + std::to_string(*count) + " completions, more than the limit of " +
                   std::to_string(kMaxDecodedCompletions));
  }
  // Offsets above `committed` that fit int64; positions must stay below this.
  const uint64_t room = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - static_cast<uint64_t>(committed);
  auto offset_at = [&](uint64_t pos) { return static_cast<int64_t>(static_cast<uint64_t>(committed) + 1 + pos); };
  auto over_count = [&] { return Invalid("lists more completions than its count of " + std::to_string(*count)); };

  std::vector<int64_t> out;
  if (kind == kRunLength) {
    // Runs can be long while the input is short, so grow as runs are read (up
    // to the checked count) rather than reserving what the header claims.
    out.reserve(std::min<uint64_t>(*count, body->size() * 8));
    uint64_t next = 0;  // first position not yet described
    while (!in.done()) {
      Result<uint64_t> gap = in.Varint("a gap");
      if (!gap.ok()) return gap.status();
      if (*gap == 0 && !out.empty()) return Invalid("empty gap between two runs");
      Result<uint64_t> run = in.Varint("a run length");
      if (!run.ok()) return run.status();
      if (*run == 0) return Invalid("empty run");
      if (*run > *count - out.size()) return over_count();
      if (*gap >= room - next || *run > room - next - *gap) return Invalid("lists offsets beyond the int64 range");
      uint64_t start = next + *gap;
      for (uint64_t k = 0; k < *run; ++k) out.push_back(offset_at(start + k));
      next = start + *run;
    }
  } else {
    std::string_view bitmap = in.rest();
    if (bitmap.empty() || bitmap.back() == '\0') return Invalid("bitmap is empty or ends in a zero byte");
    if (*count > bitmap.size() * 8) return Invalid("lists more completions than its bitmap holds");
    out.reserve(*count);
    for (size_t byte = 0; byte < bitmap.size(); ++byte) {
      auto bits = static_cast<uint8_t>(bitmap[byte]);
      for (unsigned bit = 0; bit < 8; ++bit) {
        if ((bits >> bit & 1) == 0) continue;
        uint64_t pos = uint64_t{byte} * 8 + bit;
        if (pos >= room) return Invalid("lists offsets beyond the int64 range");
        if (out.size() == *count) return over_count();
        out.push_back(offset_at(pos));
      }
    }
  }
  // The count is what makes a cut at a run or byte boundary detectable.
  if (out.size() != *count) {
    return Invalid("truncated: lists " + std::to_string(out.size()) + " of " + std::to_string(*count) +
                   " completions");
  }
  return out;
}

}  // namespace kstrand::runtime
