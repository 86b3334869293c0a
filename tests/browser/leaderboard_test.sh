#!/usr/bin/env bash
# Browser: the classroom tutorial on the embedded broker. The event source, the
# leaderboard, team-1 with two instances and team-2 with one; headless
# Chromium loads the leaderboard and must list both teams with member counts 2
# and 1 and team-1 marked as scaled (⚖️). Saves a screenshot.
# Usage: leaderboard_test.sh KSTRAND_BIN SOURCE_BIN TEAM_BIN LEADERBOARD_BIN SCREENSHOT_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
kstrand="$1" source_bin="$2" team="$3" leaderboard="$4" shots="$5"

start broker "$kstrand" broker
wait_for 20 "the embedded broker" compgen -G "$work/kstrand-broker-$(id -u)-*.json"
start source "$source_bin" --rate 40
wait_for 30 "the source to create new_users" grep -q "producing to new_users" "$work/source.log"
start leaderboard "$leaderboard" --http 0
wait_for 30 "the leaderboard's address" grep -q "^http://" "$work/leaderboard.log"
url=$(log_line leaderboard '^http://')
echo "leaderboard at $url"
start team-1a "$team" --team team-1 --count --name alice --work 5ms
start team-1b "$team" --team team-1 --count --name bob --work 5ms
start team-2 "$team" --team team-2 --count --country FR --min-age 30 --name carol

# team_row DOM TEAM: the start tag of the team's row (empty if it is not listed).
team_row() { tags "$1" tr team | grep "data-team=\"$2\"" || true; }

teams_ok() {
  local dom one two
  dom=$(dump_dom "$url") || return 1
  one=$(team_row "$dom" team-1)
  two=$(team_row "$dom" team-2)
  [ "$(attr "$one" data-members)" = 2 ] && [ "$(attr "$two" data-members)" = 1 ] || return 1
  [ "$(attr "$one" data-status)" = scaled ] && [ "$(attr "$two" data-status)" = single ] || return 1
  # Both teams' counters arrived from the compacted topic (📊 lit in both rows).
  [ "$(grep -o 'data-achievement="stats" class="on"' <<<"$dom" | wc -l)" -eq 2 ] || return 1
  echo "team-1: members $(attr "$one" data-members), $(attr "$one" data-status); team-2: members $(attr "$two" data-members), $(attr "$two" data-status)"
}
wait_for 120 "team-1 with 2 members and team-2 with 1 on the leaderboard" teams_ok

screenshot "$url" "$shots/leaderboard.png"
echo "PASS"
