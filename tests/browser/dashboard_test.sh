#!/usr/bin/env bash
# Browser: `kstrand consume --members 2 --http 0` on the embedded broker; headless
# Chromium loads the dashboard and must show one row per partition, every one
# owned, by both members. Saves a screenshot.
# Usage: dashboard_test.sh KSTRAND_BIN SCREENSHOT_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
kstrand="$1" shots="$2"
partitions=6

start broker "$kstrand" broker --topic "orders:$partitions"
wait_for 20 "the embedded broker" compgen -G "$work/kstrand-broker-$(id -u)-*.json"
# Traffic while the page is looked at, so lag and throughput are not all zero.
start produce "$kstrand" produce -t orders --count 100000 --keys 64 --rate 300
start consume "$kstrand" consume -t orders -G billing --members 2 --work 2ms --http 0
wait_for 30 "the dashboard's address" grep -q "dashboard: http" "$work/consume.log"
url=$(log_line consume 'dashboard: http' | sed 's/.*dashboard: //')
echo "dashboard at $url"

# Both members own partitions: the dashboard's rows are all owned, by two owners.
rows_ok() {
  local dom rows owners
  dom=$(dump_dom "$url") || return 1
  rows=$(tags "$dom" tr partition)
  [ "$(grep -c . <<<"$rows")" -eq "$partitions" ] || return 1
  for p in $(seq 0 $((partitions - 1))); do
    grep -q "data-partition=\"$p\"" <<<"$rows" || return 1
  done
  owners=$(while read -r row; do attr "$row" data-owner; done <<<"$rows" | sort -u)
  grep -qx '' <<<"$owners" && return 1   # an unowned partition
  [ "$(grep -c . <<<"$owners")" -eq 2 ] || return 1
  echo "partition owners: $(while read -r row; do echo -n "$(attr "$row" data-partition)=$(attr "$row" data-owner) "; done <<<"$rows")"
}
wait_for 90 "6 partition rows owned by 2 members on the dashboard" rows_ok

screenshot "$url" "$shots/dashboard.png"
echo "PASS"
