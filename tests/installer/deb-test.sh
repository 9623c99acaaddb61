#!/usr/bin/env bash
# The .deb as an administrator meets it: build it (release preset + cpack), install it with dpkg,
# check what it put where, configure the AMS origin, start the installed agent once, reinstall
# over an edited config, remove it and purge it; the state dir made before must survive both.
#
# It changes the machine (dpkg -i), so it runs only as root on a dpkg system; otherwise it says
# why and exits 77 (ctest: skipped). It refuses, the same way, to touch a kunci package that was
# installed before it ran, and purges the one it installed on every exit path.
#
# Environment: KUNCI_DEB=path/to/kunci.deb skips the build; KUNCI_BUILD_LOCK=FILE builds under
# `flock FILE` (a machine whose cores are shared).
set -euo pipefail
cd "$(dirname "$0")/../.."

skip() { echo "deb-test: skipped: $*"; exit 77; }
fail() { echo "deb-test: FAILED: $*" >&2; exit 1; }
step() { echo "== $*"; }

[ "$(id -u)" -eq 0 ] || skip "needs root (it installs the package with dpkg -i)"
command -v dpkg >/dev/null || skip "dpkg is not installed"
command -v dpkg-deb >/dev/null || skip "dpkg-deb is not installed"
if dpkg-query -W -f='${Status}' kunci 2>/dev/null | grep -qv "not-installed"; then
    skip "a kunci package is on this machine already ($(dpkg-query -W -f='${Status}' kunci));" \
        "the test would remove it"
fi

tmp=$(mktemp -d)
installed=no
agent_pid=
cleanup() {
    if [ -n "$agent_pid" ]; then kill "$agent_pid" 2>/dev/null || true; fi
    if [ "$installed" = yes ]; then dpkg --purge kunci >/dev/null 2>&1 || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

if [ -n "${KUNCI_DEB:-}" ]; then
    deb=$KUNCI_DEB
else
    step "build the release tree and the .deb"
    locked=()
    if [ -n "${KUNCI_BUILD_LOCK:-}" ]; then locked=(flock "$KUNCI_BUILD_LOCK"); fi
    "${locked[@]}" cmake --preset release
    "${locked[@]}" cmake --build --preset release
    rm -f build/release/kunci_*.deb
    (cd build/release && "${locked[@]}" cpack -G DEB)
    deb=$(ls build/release/kunci_*.deb)
fi
[ -f "$deb" ] || fail "no package at '$deb'"
echo "package: $deb"
dpkg-deb --info "$deb"

step "the package's metadata"
control=$(dpkg-deb --field "$deb")
grep -q '^Package: kunci$' <<<"$control" || fail "Package is not kunci"
grep -q '^Depends: .*libssl3' <<<"$control" || fail "Depends does not name libssl3"
grep -q '^Depends: .*libp11-kit0' <<<"$control" || fail "Depends does not name libp11-kit0"
grep -q '^Recommends: .*pinentry-gnome3 | pinentry-curses' <<<"$control" ||
    fail "Recommends does not name pinentry"
grep -q '^Recommends: .*opensc-pkcs11' <<<"$control" || fail "Recommends does not name opensc"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/kunci/agent.conf ||
    fail "/etc/kunci/agent.conf is not a conffile"

step "a state dir made before the package is installed"
home=$tmp/home
state=$home/.local/state/kunci
mkdir -p "$home/.local/state"
mkdir -m 700 "$state"
echo "made before the package was installed" >"$state/made-before-install"

policy_dirs="/etc/opt/chrome /etc/chromium /etc/opt/edge /etc/brave"
absent_before=
for dir in $policy_dirs; do
    [ -e "$dir" ] || absent_before="$absent_before $dir"
done

step "dpkg -i"
installed=yes
if ! dpkg -i "$deb"; then
    DEBIAN_FRONTEND=noninteractive apt-get -f install -y -q
fi
dpkg-query -W -f='${Status}\n' kunci | grep -q "install ok installed" || fail "not installed"

step "the files are in place (dpkg -L)"
files=$(dpkg -L kunci)
for file in /usr/bin/kunci-agent /usr/bin/kunci /usr/sbin/kunci-browser-policy \
    /usr/lib/systemd/user/kunci-agent.service /usr/lib/systemd/user-preset/80-kunci.preset \
    /etc/xdg/autostart/kunci-agent.desktop /etc/kunci/agent.conf \
    /usr/share/kunci/known-modules.txt /usr/share/kunci/client \
    /usr/share/man/man1/kunci-agent.1.gz /usr/share/man/man1/kunci.1.gz \
    /usr/share/man/man8/kunci-browser-policy.8.gz; do
    grep -qx "$file" <<<"$files" || fail "dpkg -L does not list $file"
    [ -e "$file" ] || fail "$file is listed but not there"
done
grep -q '^ExecStart=/usr/bin/kunci-agent$' /usr/lib/systemd/user/kunci-agent.service ||
    fail "the unit's ExecStart is not /usr/bin/kunci-agent"
if command -v deb-systemd-helper >/dev/null || command -v systemctl >/dev/null; then
    [ -L /etc/systemd/user/default.target.wants/kunci-agent.service ] ||
        fail "the user unit is not enabled for all users"
fi

step "kunci-agent --version"
version=$(/usr/bin/kunci-agent --version)
echo "$version"
grep -q '^kunci-agent [0-9]' <<<"$version" || fail "unexpected --version output"

step "kunci-agent --check-config with the shipped agent.conf: no origin yet (exit 2)"
set +e
HOME=$home /usr/bin/kunci-agent --check-config >"$tmp/check.out" 2>"$tmp/check.err"
status=$?
set -e
cat "$tmp/check.out" "$tmp/check.err"
[ "$status" -eq 2 ] || fail "--check-config exited $status, not 2, with no origin configured"
grep -q "no allowed origin" "$tmp/check.err" || fail "--check-config did not say what is missing"

step "no origin: no browser policy"
policies="/etc/opt/chrome/policies/managed/kunci.json /etc/chromium/policies/managed/kunci.json
/etc/opt/edge/policies/managed/kunci.json /etc/brave/policies/managed/kunci.json"
for policy in $policies; do
    [ ! -e "$policy" ] || fail "$policy written with no origin configured"
done

step "configure the AMS origin in /etc/kunci/agent.conf"
origin=https://ams.deb-test.example
sed -i "s|^\( *\)// \"allowOrigins\": \[.*\],|\1\"allowOrigins\": [\"$origin\"],|" \
    /etc/kunci/agent.conf
grep -q "^ *\"allowOrigins\": \[\"$origin\"\]," /etc/kunci/agent.conf ||
    fail "could not uncomment allowOrigins in /etc/kunci/agent.conf"
HOME=$home /usr/bin/kunci-agent --check-config | tee "$tmp/check.out"
grep -q "allowOrigins *$origin" "$tmp/check.out" || fail "--check-config does not show the origin"
grep -q "from /etc/kunci/agent.conf:[0-9]" "$tmp/check.out" ||
    fail "--check-config does not say the origin came from /etc/kunci/agent.conf"

step "kunci-agent --list-modules"
HOME=$home /usr/bin/kunci-agent --list-modules | tee "$tmp/modules.out"
grep -q "Known vendor paths: /usr/share/kunci/known-modules.txt" "$tmp/modules.out" ||
    fail "--list-modules did not read the installed known-modules.txt"

if command -v systemd-analyze >/dev/null; then
    step "systemd-analyze verify the user unit"
    mkdir -m 700 "$tmp/run"
    XDG_RUNTIME_DIR=$tmp/run systemd-analyze --user verify --man=no \
        /usr/lib/systemd/user/kunci-agent.service 2>"$tmp/verify.err" ||
        { cat "$tmp/verify.err"; fail "systemd-analyze verify failed"; }
    [ ! -s "$tmp/verify.err" ] || { cat "$tmp/verify.err"; fail "systemd-analyze complained"; }
else
    echo "(systemd-analyze not installed: the unit is not verified)"
fi

step "kunci-browser-policy: the policy follows the configured origin"
/usr/sbin/kunci-browser-policy
for policy in $policies; do
    grep -q "\"LocalNetworkAccessAllowedForUrls\": \[\"$origin\"\]" "$policy" ||
        fail "$policy does not allow $origin"
done

step "the installed agent starts with the configuration (and a SoftHSM token), and stops"
softhsm_module=
for candidate in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so; do
    if [ -f "$candidate" ]; then softhsm_module=$candidate; break; fi
done
mkdir -p "$tmp/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$tmp/tokens" >"$tmp/softhsm2.conf"
export SOFTHSM2_CONF=$tmp/softhsm2.conf
modules=()
if [ -n "$softhsm_module" ] && command -v softhsm2-util >/dev/null; then
    softhsm2-util --init-token --free --label deb-test --pin 123456 --so-pin 12345678 >/dev/null
    modules=(--module "$softhsm_module")
fi
mkfifo "$tmp/agent.out"
env -u XDG_STATE_HOME -u XDG_CONFIG_HOME -u DISPLAY -u WAYLAND_DISPLAY HOME="$home" \
    /usr/bin/kunci-agent "${modules[@]}" --listen 127.0.0.1:0 --no-pinentry --no-token-watch \
    --expiry-warning-days 0 >"$tmp/agent.out" 2>"$tmp/agent.err" &
agent_pid=$!
exec 3<"$tmp/agent.out"
if ! read -r -t 60 line <&3 || [[ "$line" != "kunci-agent listening on ws://127.0.0.1:"* ]]; then
    cat "$tmp/agent.err"
    fail "the installed agent did not start (first line: '${line:-}')"
fi
echo "$line"
kill -TERM "$agent_pid"
wait "$agent_pid" || fail "the agent did not stop cleanly on SIGTERM"
agent_pid=
exec 3<&-
[ -d "$state" ] || fail "the agent has no state dir at $state"

if /usr/bin/kunci doctor --help >/dev/null 2>&1; then
    step "kunci doctor"
    set +e
    HOME=$home /usr/bin/kunci doctor
    status=$?
    set -e
    [ "$status" -lt 128 ] || fail "kunci doctor was killed by a signal ($status)"
else
    echo "(kunci doctor is not in this build: skipped)"
fi

step "reinstall over the edited agent.conf: the edit is kept"
dpkg -i "$deb"
grep -q "^ *\"allowOrigins\": \[\"$origin\"\]," /etc/kunci/agent.conf ||
    fail "reinstalling replaced the edited agent.conf"
for policy in $policies; do
    grep -q "$origin" "$policy" || fail "reinstalling lost $policy"
done

step "dpkg -r: the state dir and agent.conf stay, the programs and the policy go"
dpkg -r kunci
[ ! -e /usr/bin/kunci-agent ] || fail "/usr/bin/kunci-agent still there after dpkg -r"
[ -f /etc/kunci/agent.conf ] || fail "dpkg -r removed the conffile /etc/kunci/agent.conf"
for policy in $policies; do
    [ ! -e "$policy" ] || fail "$policy still there after dpkg -r"
done
[ -f "$state/made-before-install" ] || fail "dpkg -r removed the state dir's contents"

step "dpkg --purge: /etc/kunci goes, the state dir stays"
dpkg --purge kunci
installed=no
[ ! -e /etc/kunci ] || fail "/etc/kunci still there after purge"
[ ! -e /etc/systemd/user/default.target.wants/kunci-agent.service ] ||
    fail "the enable link is still there after purge"
[ -f "$state/made-before-install" ] || fail "purge removed the state dir's contents"
for dir in $absent_before; do
    [ ! -e "$dir" ] || fail "$dir was made for the browser policy and is still there after purge"
done

echo "deb-test: passed"
