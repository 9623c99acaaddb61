#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs agent_stop_tests.exe under wine in a fresh prefix whose graphics driver is wine's "null"
# one: the agents' hidden window needs a desktop, and that driver gives one without an X
# display. Usage: run_agent_stop_tests.sh WINE TEST-EXE AGENT-DIR SOFTHSM-DLL
set -eu
wine=$1 test_exe=$2 agent_dir=$3 softhsm=$4
command -v "$wine" >/dev/null 2>&1 || { echo "SKIP: no $wine"; exit 77; }
WINEPREFIX=$(mktemp -d "${TMPDIR:-/tmp}/kunci-agent-stop.XXXXXX")
export WINEPREFIX WINEDEBUG=-all
cleanup() {
    wineserver -k 2>/dev/null || true
    rm -rf "$WINEPREFIX"
}
trap cleanup EXIT
"$wine" wineboot -i >/dev/null 2>&1
"$wine" reg add 'HKCU\Software\Wine\Drivers' /v Graphics /d null /f >/dev/null 2>&1
# The desktop reads its driver when it starts: the next wine process starts a new one.
wineserver -w
"$wine" "$test_exe" "$("$wine" winepath -w "$agent_dir")" "$("$wine" winepath -w "$softhsm")"
