# Which librdkafka source scripts/setup.sh builds, and how our patches go on
# it. Sourced by setup.sh and by tests/unit/rdkafka_source_test.sh; plain
# functions of their arguments, no network.
#
# Debian's sid keeps only its current librdkafka, so the version the project
# pins disappears the day a newer one is uploaded. setup.sh then builds the
# newest sid version of the pin's major line instead, if every patch still
# applies or is already upstream, and says so.

# choose_rdkafka_source PIN: reads Debian source versions (e.g. 2.14.2-1), one
# a line, on stdin; prints the one to build: the newest revision of PIN, else
# the newest version of PIN's major line. Fails, saying what there was, when
# neither exists.
choose_rdkafka_source() {
  local pin="$1" major="${1%%.*}" versions
  versions=$(grep -E '^[0-9]+\.[0-9]+\.[0-9]+' | sort -V -u || true)
  local chosen
  chosen=$(grep -F "$pin-" <<<"$versions" | grep "^$pin-" | tail -n 1 || true)
  [ -n "$chosen" ] || chosen=$(grep "^$major\." <<<"$versions" | tail -n 1 || true)
  if [ -z "$chosen" ]; then
    echo "setup: Debian sid has no librdkafka $pin nor any $major.x (it has: ${versions//$'\n'/ })" >&2
    return 1
  fi
  echo "$chosen"
}

# apply_rdkafka_patches SRC_DIR PATCH...: applies each patch to SRC_DIR, or
# skips it when it is already there (it applies reversed: upstream took the
# fix). Prints one line per patch, "NAME applied" or "NAME already upstream";
# fails naming the first patch that neither applies nor is already there.
apply_rdkafka_patches() {
  local src="$1" p name
  shift
  for p in "$@"; do
    name=$(basename "$p")
    if patch -d "$src" -p1 --dry-run --forward --silent <"$p" >/dev/null 2>&1; then
      patch -d "$src" -p1 --forward --silent <"$p" >/dev/null
      echo "$name applied"
    elif patch -d "$src" -p1 --dry-run --reverse --silent <"$p" >/dev/null 2>&1; then
      echo "$name already upstream"
    else
      echo "setup: patch $name neither applies to this librdkafka nor is already in it: update the patch" \
           "(scripts/librdkafka-patches/) or pin a version it fits" >&2
      return 1
    fi
  done
}
