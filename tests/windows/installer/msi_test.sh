#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The MSI under wine, in a fresh WINEPREFIX: an install with AMS_ORIGIN (files, login entry,
# Chrome/Edge/Firefox policies in the 64-bit registry view, agent.conf), an upgrade without it
# and one repeating it (the admin's agent.conf and the policies kept), an uninstall
# (programs, entry and policies gone; agent.conf and the user's state directory kept), an
# install without AMS_ORIGIN (no policy, agent.conf untouched), a malformed AMS_ORIGIN
# refused, a new origin rewriting agent.conf.
#
#   msi_test.sh [--build-dir DIR | --agent EXE --agentw EXE --cli EXE] [--softhsm DIR]
#
# Without programs (or when DIR has not built them yet) it packs placeholder programs compiled
# here: the MSI's logic is the same. Exit 77: a tool is missing (skipped).
set -euo pipefail

source_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
build_msi=$source_root/packaging/windows/build-msi
agent='' agentw='' cli='' build_dir='' softhsm=''
while [ $# -gt 0 ]; do
    case "$1" in
        --build-dir) build_dir=$2; shift 2 ;;
        --agent) agent=$2; shift 2 ;;
        --agentw) agentw=$2; shift 2 ;;
        --cli) cli=$2; shift 2 ;;
        --softhsm) softhsm=$2; shift 2 ;;
        *) echo "usage: msi_test.sh [--build-dir DIR | --agent EXE --agentw EXE --cli EXE]" \
               "[--softhsm DIR]" >&2; exit 2 ;;
    esac
done
if [ -n "$build_dir" ]; then
    [ -f "$build_dir/agent/kunci-agent.exe" ] && agent=$build_dir/agent/kunci-agent.exe
    [ -f "$build_dir/agent/kunci-agentw.exe" ] && agentw=$build_dir/agent/kunci-agentw.exe
    [ -f "$build_dir/agent/cli/kunci.exe" ] && cli=$build_dir/agent/cli/kunci.exe
    [ -z "$softhsm" ] && [ -f "$build_dir/softhsm/softhsm2.dll" ] && softhsm=$build_dir/softhsm
fi
[ -z "$softhsm" ] && [ -f "${KUNCI_WINDOWS_DEPS:-/nonexistent}/softhsm/bin/softhsm2.dll" ] &&
    softhsm=$KUNCI_WINDOWS_DEPS/softhsm/bin

for tool in wine wineboot wixl msibuild msiinfo; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done

work=$(mktemp -d)
export WINEPREFIX=$work/prefix WINEDEBUG=-all
cleanup() {
    wineserver -k 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

failures=0 checks=0
pass() { checks=$((checks + 1)); echo "ok: $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL: $*"; }
check() {  # check DESCRIPTION COMMAND...
    local what=$1; shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

real_programs=no
compiler=$(command -v x86_64-w64-mingw32-gcc-posix || command -v x86_64-w64-mingw32-gcc || true)
placeholder() {  # placeholder FILE [GCC-OPTION]: a program that only prints
    [ -n "$compiler" ] || { echo "SKIP: no programs given and no mingw compiler"; exit 77; }
    printf '#include <stdio.h>\nint main(void) { puts("placeholder"); return 0; }\n' \
        >"$work/placeholder.c"
    "$compiler" "${@:2}" -o "$1" "$work/placeholder.c"
}
if [ -n "$agent" ] && [ -n "$agentw" ] && [ -n "$cli" ]; then
    real_programs=yes
else
    placeholder "$work/kunci-agent.exe"
    placeholder "$work/kunci-agentw.exe" -mwindows
    cp "$work/kunci-agent.exe" "$work/kunci.exe"
    agent=$work/kunci-agent.exe agentw=$work/kunci-agentw.exe cli=$work/kunci.exe
fi
if [ -z "$softhsm" ]; then
    softhsm=$work/softhsm
    mkdir -p "$softhsm"
    placeholder "$softhsm/softhsm2-util.exe"
    cp "$softhsm/softhsm2-util.exe" "$softhsm/softhsm2.dll"
fi
echo "programs: $agent, $agentw, $cli, SoftHSM from $softhsm (real: $real_programs)"

build() {  # build VERSION: the MSI's path
    "$build_msi" --version "$1" --agent "$agent" --agentw "$agentw" --cli "$cli" \
        --softhsm "$softhsm" --output "$work/msi"
}
old=$(build 1.0.0)
new=$(build 1.0.1)
newer=$(build 1.0.2)
product_code() {  # msiinfo prints CRLF lines
    msiinfo export "$1" Property | tr -d '\r' | awk -F'\t' '$1 == "ProductCode" { print $2 }'
}

wineboot -i >/dev/null 2>&1
drive_c=$WINEPREFIX/drive_c
program_dir="$drive_c/Program Files/kunci"
config=$drive_c/ProgramData/kunci/agent.conf
local_appdata=$(winepath -u "$(wine cmd /d /c 'echo %LOCALAPPDATA%' | tr -d '\r')")
state_dir=${local_appdata%/}/kunci

msiexec_runs=0
msiexec() {  # wine cuts the exit code to 8 bits: 1603 shows as 67
    msiexec_runs=$((msiexec_runs + 1))
    local log=$work/msiexec-$msiexec_runs.log status=0
    wine msiexec "$@" /l*v "$(winepath -w "$log")" || status=$?
    # Every process of this step ends before the next step looks at the prefix.
    wineserver -w
    if [ "$status" -ne 0 ]; then
        echo "msiexec $* exited $status; what its log says went wrong:"
        tr -d '\r' <"$log" 2>/dev/null | grep -iE 'error|fail|return value [^1]' |
            tail -n 30 | sed 's/^/    /' || true
    fi
    return "$status"
}
# The data of a value in the 64-bit view, empty when absent.
reg_value() {
    wine reg query "$1" /v "$2" /reg:64 2>/dev/null | tr -d '\r' |
        sed -n "s/^ *$2 *REG_[A-Z_]* *//p"
}
reg_absent() { ! wine reg query "$1" "${@:2}" >/dev/null 2>&1; }
run_key='HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run'
policy_keys=(
    'HKLM\SOFTWARE\Policies\Google\Chrome\LoopbackNetworkAllowedForUrls'
    'HKLM\SOFTWARE\Policies\Google\Chrome\LocalNetworkAccessAllowedForUrls'
    'HKLM\SOFTWARE\Policies\Microsoft\Edge\LoopbackNetworkAllowedForUrls'
    'HKLM\SOFTWARE\Policies\Microsoft\Edge\LocalNetworkAccessAllowedForUrls')
firefox_key='HKLM\SOFTWARE\Policies\Mozilla\Firefox\LocalNetworkAccess\SkipDomains'
installed_version() {
    wine reg query 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall' /s /reg:64 |
        tr -d '\r' | grep -A20 'DisplayName *REG_SZ *kunci$' |
        sed -n 's/^ *DisplayVersion *REG_SZ *//p' | head -1
}
expect_policies() {  # expect_policies ORIGIN HOST
    local key
    for key in "${policy_keys[@]}"; do
        check "policy ${key##*Policies\\} = $1" test "$(reg_value "$key" 1)" = "$1"
    done
    check "Firefox SkipDomains = $2" test "$(reg_value "$firefox_key" 1)" = "$2"
}
expect_no_policies() {
    local key
    for key in "${policy_keys[@]}"; do
        check "no policy ${key##*Policies\\}" reg_absent "$key"
    done
    check "no Firefox SkipDomains" reg_absent "$firefox_key"
    check "no remembered origin" reg_absent 'HKLM\SOFTWARE\kunci'
}
expect_installed() {
    local file
    for file in kunci-agent.exe kunci-agentw.exe kunci.exe softhsm2.dll softhsm2-util.exe \
        SoftHSM-LICENSE.txt known-modules.txt README.txt kunci-set-origin.cmd; do
        check "installed $file" test -f "$program_dir/$file"
    done
    # The GUI variant: no console window on the holder's desktop.
    check "login entry starts the agent without a console" \
        test "$(reg_value "$run_key" kunci-agent)" = "\"C:\\Program Files\\kunci\\kunci-agentw.exe\""
    # Win64="yes" on every component: nothing in the 32-bit view.
    check "login entry not in the 32-bit view" reg_absent "$run_key" /v kunci-agent /reg:32
}

echo "== install 1.0.0 with AMS_ORIGIN"
check "install exits 0" msiexec /i "$old" /qn AMS_ORIGIN=https://ams.example.id
expect_installed
expect_policies https://ams.example.id ams.example.id
check "origin remembered in the 64-bit view only" \
    test "$(reg_value 'HKLM\SOFTWARE\kunci' AmsOrigin)" = https://ams.example.id
check "remembered origin not in the 32-bit view" reg_absent 'HKLM\SOFTWARE\kunci' /reg:32
check "agent.conf names the origin" \
    grep -q '^ *"allowOrigins": \["https://ams.example.id"\]' "$config"
if [ "$real_programs" = yes ]; then
    # The agent itself reads %ProgramData%\kunci\agent.conf as the machine's configuration.
    origins=$(wine "$program_dir/kunci-agent.exe" --print-origins 2>&1 | tr -d '\r' || true)
    check "kunci-agent --print-origins reads agent.conf ($origins)" \
        test "$origins" = https://ams.example.id
fi

echo "== upgrade to 1.0.1 without AMS_ORIGIN, agent.conf edited by the admin"
echo '// edited by the administrator' >>"$config"
cp "$config" "$work/edited.conf"
mkdir -p "$state_dir"
echo pending >"$state_dir/journal-file"
check "upgrade exits 0" msiexec /i "$new" /qn
check "1.0.1 installed, 1.0.0 gone" test "$(installed_version)" = 1.0.1
expect_installed
expect_policies https://ams.example.id ams.example.id
check "upgrade keeps the edited agent.conf" cmp -s "$config" "$work/edited.conf"

echo "== upgrade to 1.0.2 repeating the same AMS_ORIGIN (a fleet command)"
check "upgrade exits 0" msiexec /i "$newer" /qn AMS_ORIGIN=https://ams.example.id
check "1.0.2 installed" test "$(installed_version)" = 1.0.2
expect_policies https://ams.example.id ams.example.id
check "the same origin keeps the edited agent.conf" cmp -s "$config" "$work/edited.conf"

echo "== uninstall"
check "uninstall exits 0" msiexec /x "$(product_code "$newer")" /qn
check "programs removed" test ! -e "$program_dir/kunci-agent.exe" -a ! -e "$program_dir/kunci.exe"
check "login entry removed" test -z "$(reg_value "$run_key" kunci-agent)"
expect_no_policies
check "nothing installed" test -z "$(installed_version)"
check "agent.conf kept" cmp -s "$config" "$work/edited.conf"
check "state directory kept" grep -qx pending "$state_dir/journal-file"

echo "== install without AMS_ORIGIN"
check "install exits 0" msiexec /i "$old" /qn
expect_installed
expect_no_policies
check "an existing agent.conf is left as it is" cmp -s "$config" "$work/edited.conf"
check "uninstall exits 0" msiexec /x "$(product_code "$old")" /qn

echo "== a malformed AMS_ORIGIN is refused"
rm -f "$config"
set +e
msiexec /i "$old" /qn AMS_ORIGIN=ams.example.id
refused=$?
set -e
check "install fails (exit $refused)" test "$refused" -ne 0
check "nothing installed" test -z "$(installed_version)"
check "no agent.conf written" test ! -e "$config"

echo "== a new origin rewrites agent.conf"
cp "$work/edited.conf" "$config"
check "install exits 0" msiexec /i "$old" /qn AMS_ORIGIN=https://other.example.id:8443
expect_policies https://other.example.id:8443 other.example.id
check "agent.conf names the new origin" \
    grep -q '^ *"allowOrigins": \["https://other.example.id:8443"\]' "$config"
check "the old agent.conf kept as agent.conf.previous" cmp -s "$config.previous" "$work/edited.conf"
check "uninstall exits 0" msiexec /x "$(product_code "$old")" /qn
expect_no_policies

echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
