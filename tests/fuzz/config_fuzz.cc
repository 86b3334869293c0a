// Config and property parsing: the settings table (RuntimeConfig::Set, what
// the CLI's --flags and the settings API go through), its duration and count
// parsers, and the -X key=value librdkafka properties. Any text must give a
// value or an error Status that names what it rejected, never a crash:
//   - a rejected value leaves the config as it was, and the error names the setting;
//   - an accepted value reads back (Get) as text that parses to the same value;
//   - durations are 0..30 days, counts within their bounds;
//   - properties split at the first '=', keys non-empty, the last value wins.
#include <fuzzer/FuzzedDataProvider.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "check.h"
#include "kstrand/config.h"
#include "kstrand/parse.h"

namespace {

using namespace kstrand;

std::map<std::string, std::string> Snapshot(const RuntimeConfig& c) {
  std::map<std::string, std::string> out;
  for (const Setting& s : Settings()) out[std::string(s.name)] = c.Get(s.name);
  return out;
}

void FuzzSetting(FuzzedDataProvider& in) {
  const auto settings = Settings();
  // Mostly a real setting's name, so values get exercised; sometimes any text.
  const size_t pick = in.ConsumeIntegralInRange<size_t>(0, settings.size());
  const std::string name =
      pick < settings.size() ? std::string(settings[pick].name) : in.ConsumeRandomLengthString(64);
  const std::string value = in.ConsumeRandomLengthString(64);

  RuntimeConfig config;
  const auto before = Snapshot(config);
  Status st = config.Set(name, value);
  if (!st.ok()) {
    FUZZ_CHECK(st.code() == make_error_code(Errc::kInvalidArgument));
    FUZZ_CHECK(st.detail().find("'" + name + "'") != std::string::npos ||
               st.detail().starts_with("setting " + name + ": "));
    FUZZ_CHECK(Snapshot(config) == before);
    return;
  }
  FUZZ_CHECK(config.Get(name) != "" || value.empty());
  // What Get shows (in --help, /status) is itself accepted and means the same.
  RuntimeConfig again;
  FUZZ_CHECK(again.Set(name, config.Get(name)).ok());
  FUZZ_CHECK(Snapshot(again) == Snapshot(config));
}

void FuzzDuration(FuzzedDataProvider& in) {
  const std::string text = in.ConsumeRandomLengthString(32);
  auto d = ParseDuration(text);
  if (!d.ok()) {
    FUZZ_CHECK(d.status().detail().find(text) != std::string::npos);
    return;
  }
  FUZZ_CHECK(d->count() >= 0 && *d <= std::chrono::hours(24 * 30));
  auto round_trip = ParseDuration(FormatDuration(*d));
  FUZZ_CHECK(round_trip.ok() && *round_trip == *d);
}

void FuzzCount(FuzzedDataProvider& in) {
  size_t min = in.ConsumeIntegral<size_t>();
  size_t max = in.ConsumeIntegral<size_t>();
  if (min > max) std::swap(min, max);
  const std::string text = in.ConsumeRandomLengthString(32);
  auto n = ParseCount(text, min, max);
  if (!n.ok()) {
    FUZZ_CHECK(!n.status().detail().empty());
    return;
  }
  FUZZ_CHECK(*n >= min && *n <= max);
  auto round_trip = ParseCount(std::to_string(*n), min, max);
  FUZZ_CHECK(round_trip.ok() && *round_trip == *n);
}

void FuzzProperties(FuzzedDataProvider& in) {
  std::vector<std::string> pairs;
  const size_t count = in.ConsumeIntegralInRange<size_t>(0, 8);
  for (size_t i = 0; i < count; ++i) pairs.push_back(in.ConsumeRandomLengthString(32));
  auto props = ParseProperties(pairs);
  // The reference: the first malformed pair is the error, else the last value per key.
  std::map<std::string, std::string> expected;
  for (const auto& kv : pairs) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      FUZZ_CHECK(!props.ok());
      // A value is never echoed (it may be a password).
      FUZZ_CHECK(props.status().detail() == (eq == 0 ? std::string("-X =...: expected key=value, the key is empty")
                                                     : "-X " + kv + ": expected key=value"));
      return;
    }
    expected[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  FUZZ_CHECK(props.ok() && *props == expected);
  for (const auto& [key, value] : *props) FUZZ_CHECK(!key.empty() && key.find('=') == std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0: FuzzSetting(in); break;
    case 1: FuzzDuration(in); break;
    case 2: FuzzCount(in); break;
    case 3: FuzzProperties(in); break;
  }
  return 0;
}
