// kstrand-bench-store-apply: how fast a RocksDB PartitionStore applies records,
// i.e. the ceiling on restoring or updating a table from its source topic.
//
// Applies --records records with --value-bytes values in batches of --batch
// (one WriteBatch each, offset included, as a lane applies them) into one
// partition store of a fresh RocksDB StoreSet in a temporary directory, which
// is removed afterwards. Keys cycle over --distinct-keys, so later batches
// overwrite, as a changelog does. Prints records/s and MB/s of values.
#include <fmt/format.h>
#include <stdlib.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "state/store.h"

namespace {

struct Options {
  int64_t records = 1'000'000;
  size_t batch_size = 64;
  size_t value_bytes = 100;
  int64_t distinct_keys = 100'000;
  size_t block_cache_mb = 64;
};

kstrand::Status Run(const std::string& directory, const Options& options) {
  auto set = kstrand::state::StoreSet::RocksDb(directory, options.block_cache_mb << 20);
  if (!set.ok()) return set.status();
  auto store = (*set)->Open("bench", 0);
  if (!store.ok()) return store.status();

  // Keys and values are built before the clock starts: only Apply is timed.
  std::vector<std::string> keys;
  keys.reserve(options.distinct_keys);
  for (int64_t k = 0; k < options.distinct_keys; ++k) keys.push_back(fmt::format("key-{:08}", k));
  const std::string value(options.value_bytes, 'v');
  std::vector<kstrand::state::Record> batch;
  batch.reserve(options.batch_size);

  const auto start = std::chrono::steady_clock::now();
  for (int64_t offset = 0; offset < options.records;) {
    batch.clear();
    for (; offset < options.records && batch.size() < options.batch_size; ++offset) {
      batch.push_back({keys[offset % options.distinct_keys], value, offset});
    }
    KSTRAND_RETURN_IF_ERROR((*store)->Apply(batch));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("applied {} records of {} bytes in batches of {}: {:.2f} s, {:.0f} records/s, {:.1f} MB/s of values\n",
             options.records, options.value_bytes, options.batch_size, seconds, options.records / seconds,
             options.records * static_cast<double>(options.value_bytes) / seconds / 1e6);
  return kstrand::Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Apply throughput of a RocksDB partition store"};
  app.add_option("--records", options.records, "records to apply")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--batch", options.batch_size, "records per Apply call")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--value-bytes", options.value_bytes, "bytes per value")->capture_default_str();
  app.add_option("--distinct-keys", options.distinct_keys, "keys cycled over")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--block-cache-mb", options.block_cache_mb, "shared block cache")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::string directory = (std::filesystem::temp_directory_path() / "kstrand-store-bench-XXXXXX").string();
  if (!mkdtemp(directory.data())) return fmt::print(stderr, "cannot create {}\n", directory), 1;
  kstrand::Status status = Run(directory + "/db", options);
  std::filesystem::remove_all(directory);
  if (!status.ok()) return fmt::print(stderr, "{}\n", status.ToString()), 1;
  return 0;
}
