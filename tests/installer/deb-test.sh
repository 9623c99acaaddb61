#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The .deb as an administrator meets it: build it (release preset + cpack), install it with dpkg,
# check what it put where, configure the AMS origin, start the installed agent once, renew a
# certificate on a SoftHSM token with the installed `kunci` (alone, then through the installed
# agent), run `kunci doctor` on that setup, reinstall over an edited config, remove it and purge
# it; the state dir made before must survive both.
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
dpkg-deb --contents "$deb" >"$tmp/contents"
grep -q ' \./usr/share/doc/kunci/copyright$' "$tmp/contents" ||
    fail "the package has no /usr/share/doc/kunci/copyright"

step "a state dir made before the package is installed"
home=$tmp/home
state=$home/.local/state/kunci
mkdir -p "$home/.local/state"
mkdir -m 700 "$state"
echo "made before the package was installed" >"$state/made-before-install"

policy_dirs="/etc/opt/chrome /etc/chromium /etc/opt/edge /etc/brave /etc/firefox"
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
    /usr/share/man/man8/kunci-browser-policy.8.gz /usr/share/doc/kunci/copyright; do
    grep -qx "$file" <<<"$files" || fail "dpkg -L does not list $file"
    [ -e "$file" ] || fail "$file is listed but not there"
done
head -n 1 /usr/share/doc/kunci/copyright |
    grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' ||
    fail "/usr/share/doc/kunci/copyright is not in the machine-readable format"
grep -q '^Files: \*$' /usr/share/doc/kunci/copyright || fail "the copyright file has no Files: *"
grep -q '^License: ' /usr/share/doc/kunci/copyright || fail "the copyright file has no License"
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
loopback_policies="/etc/opt/chrome/policies/managed/kunci-loopback.json
/etc/chromium/policies/managed/kunci-loopback.json
/etc/opt/edge/policies/managed/kunci-loopback.json
/etc/brave/policies/managed/kunci-loopback.json"
firefox_policy=/etc/firefox/policies/policies.json
for policy in $policies $loopback_policies; do
    [ ! -e "$policy" ] || fail "$policy written with no origin configured"
done
# Firefox's file may be another package's or the admin's: checked only when kunci may own it.
firefox_ours=no
case " $absent_before " in *" /etc/firefox "*) firefox_ours=yes ;; esac
[ "$firefox_ours" = no ] || [ ! -e "$firefox_policy" ] ||
    fail "$firefox_policy written with no origin configured"

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
for policy in $loopback_policies; do
    grep -q "\"LoopbackNetworkAllowedForUrls\": \[\"$origin\"\]" "$policy" ||
        fail "$policy does not allow $origin"
done
if [ "$firefox_ours" = yes ]; then
    grep -q "\"SkipDomains\": \[\"${origin#https://}\"\]" "$firefox_policy" ||
        fail "$firefox_policy does not skip ${origin#https://}"
fi

step "the installed agent starts with the configuration and a SoftHSM token, and stops"
softhsm_module=
for candidate in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so; do
    if [ -f "$candidate" ]; then softhsm_module=$candidate; break; fi
done
for tool in softhsm2-util pkcs11-tool openssl; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (the renewal steps need it)"
done
[ -n "$softhsm_module" ] || fail "SoftHSM's module is not installed (the renewal steps need it)"
mkdir -p "$tmp/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$tmp/tokens" >"$tmp/softhsm2.conf"
export SOFTHSM2_CONF=$tmp/softhsm2.conf
pin=123456
softhsm2-util --init-token --free --label deb-test --pin "$pin" --so-pin 12345678 >/dev/null

# The installed agent in the background, as the holder's session runs it (on a free port: the
# test must not meet another agent on the default one); its first line says where it listens.
start_agent() {
    rm -f "$tmp/agent.out"
    mkfifo "$tmp/agent.out"
    env -u XDG_STATE_HOME -u XDG_CONFIG_HOME -u DISPLAY -u WAYLAND_DISPLAY HOME="$home" \
        /usr/bin/kunci-agent --module "$softhsm_module" --listen 127.0.0.1:0 --no-pinentry \
        --no-token-watch --expiry-warning-days 0 >"$tmp/agent.out" 2>"$tmp/agent.err" &
    agent_pid=$!
    exec 3<"$tmp/agent.out"
    if ! read -r -t 60 line <&3 || [[ "$line" != "kunci-agent listening on ws://127.0.0.1:"* ]]
    then
        cat "$tmp/agent.err"
        fail "the installed agent did not start (first line: '${line:-}')"
    fi
    echo "$line"
    agent_port=${line#kunci-agent listening on ws://127.0.0.1:}
    agent_port=${agent_port%/v1}
}
stop_agent() {
    kill -TERM "$agent_pid"
    wait "$agent_pid" || fail "the agent did not stop cleanly on SIGTERM"
    agent_pid=
    exec 3<&-
}
start_agent
stop_agent
[ -d "$state" ] || fail "the agent has no state dir at $state"

# The installed kunci as the holder runs it: their HOME, /etc/kunci/agent.conf (the origin
# configured above), the default state dir. Output in $tmp/kunci.out and .err, exit code in
# $status; PIN (when given) on stdin.
run_kunci() {
    local input=$1
    shift
    set +e
    printf '%s' "$input" |
        env -u XDG_STATE_HOME -u XDG_CONFIG_HOME -u DISPLAY -u WAYLAND_DISPLAY HOME="$home" \
            /usr/bin/kunci "$@" >"$tmp/kunci.out" 2>"$tmp/kunci.err"
    status=$?
    set -e
}
kunci_ok() {
    run_kunci "$@"
    if [ "$status" -ne 0 ]; then
        cat "$tmp/kunci.out" "$tmp/kunci.err"
        fail "kunci ${*:2} exited $status"
    fi
}
# A string field of the JSON kunci printed ("renewal", "keyId"), from its first occurrence.
json_field() {
    sed -n "s/^ *\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" "$tmp/kunci.out" | head -n 1
}
# Whether `kunci certs --json` (in $tmp/kunci.out) lists a certificate with this id and
# hasPrivateKey true: one object per certificate, its fields indented by six blanks.
cert_with_private_key() {
    awk -v id="\"$1\"" '
        /^    \{/ { found_id = ""; private = "" }
        /^      "id": / { found_id = $2; sub(/,$/, "", found_id) }
        /^      "hasPrivateKey": / { private = $2; sub(/,$/, "", private) }
        /^    \}/ { if (found_id == id && private == "true") ok = 1 }
        END { exit !ok }' "$tmp/kunci.out"
}
# The token objects pkcs11-tool lists with this ID: "Certificate", "Private Key", ...
objects_with_id() {
    pkcs11-tool --module "$softhsm_module" --list-objects --login --pin "$pin" 2>/dev/null |
        awk -v id="$1" '/^[^ ]/ { type = $0; sub(/ Object;.*/, "", type) }
                        /^ +ID: / && $2 == id { print type }'
}

step "a renewal with the installed kunci alone (no agent running)"
kunci_ok "" tokens --module "$softhsm_module"
grep -q '^deb-test$' "$tmp/kunci.out" || fail "kunci tokens does not list the token deb-test"
kunci_ok "" certs --module "$softhsm_module"
grep -q 'no certificates' "$tmp/kunci.out" || fail "kunci certs: a new token has certificates"
subject="CN=Budi,O=Kementerian,C=ID"
kunci_ok "$pin"$'\n' renew --module "$softhsm_module" --token deb-test --subject "$subject" \
    --key ec:P-256 --pin-stdin --out "$tmp/req.csr" --json
renewal=$(json_field renewal)
key_id=$(json_field keyId)
[ -n "$renewal" ] && [ -n "$key_id" ] || fail "kunci renew --json gave no renewal or keyId"
echo "renewal $renewal, key id $key_id"
openssl req -verify -in "$tmp/req.csr" -noout 2>/dev/null ||
    fail "the CSR kunci renew wrote does not verify"
openssl req -in "$tmp/req.csr" -noout -subject | grep -q 'CN *= *Budi' ||
    fail "the CSR does not carry the subject"
step "issue it with a throwaway CA and install it"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/ca.key" \
    -out "$tmp/ca.pem" -days 30 -subj "/CN=deb-test CA" 2>/dev/null || fail "no test CA"
openssl x509 -req -in "$tmp/req.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
    -CAcreateserial -days 365 -out "$tmp/cert.pem" 2>/dev/null || fail "the CA did not issue"
kunci_ok "$pin"$'\n' install --module "$softhsm_module" --renewal "$renewal" "$tmp/cert.pem" \
    --chain "$tmp/ca.pem" --pin-stdin
cat "$tmp/kunci.out"
kunci_ok "" renewals --module "$softhsm_module"
grep -q "^$renewal  completed$" "$tmp/kunci.out" || fail "kunci renewals: $renewal not completed"
! grep -q 'awaiting-certificate' "$tmp/kunci.out" || fail "kunci renewals: a renewal is pending"
kunci_ok "$pin"$'\n' certs --module "$softhsm_module" --pin-stdin --json
cert_with_private_key "$key_id" ||
    fail "kunci certs --json: no certificate with id $key_id and hasPrivateKey true"
objects=$(objects_with_id "$key_id")
grep -qx 'Certificate' <<<"$objects" || fail "pkcs11-tool: no certificate object with ID $key_id"
grep -qx 'Private Key' <<<"$objects" || fail "pkcs11-tool: no private key with ID $key_id"
grep -q '"origin":"kunci-cli"' "$state/audit.log" ||
    fail "the renewal was not recorded as kunci's own (kunci-cli) in the audit log"

step "kunci through the installed agent (it holds the state dir)"
start_agent
kunci_ok "$pin"$'\n' renew --token deb-test --subject "$subject" --key ec:P-256 --pin-stdin \
    --out "$tmp/req2.csr" --json
renewal2=$(json_field renewal)
key_id2=$(json_field keyId)
[ -n "$renewal2" ] && [ -n "$key_id2" ] || fail "kunci renew via the agent gave no renewal"
grep -q "kunci-agent (pid $agent_pid) holds the state directory $state; using it on ws://127.0.0.1:$agent_port/v1" \
    "$tmp/kunci.err" || { cat "$tmp/kunci.err"; fail "kunci renew did not use the running agent"; }
kunci_ok "" renewals
grep -q "^$renewal2  awaiting-certificate$" "$tmp/kunci.out" ||
    fail "kunci renewals (through the agent) does not show $renewal2 awaiting its certificate"
kunci_ok "$pin"$'\n' cancel "$renewal2" --pin-stdin
grep -q "using it on ws://127.0.0.1:$agent_port/v1" "$tmp/kunci.err" ||
    fail "kunci cancel did not use the running agent"
[ -z "$(objects_with_id "$key_id2")" ] || fail "the cancelled renewal's key pair is on the token"
grep -q "\"method\":\"renewal.cancel\",\"origin\":\"$origin\"" "$state/audit.log" ||
    fail "the agent did not record the cancellation with the configured origin"

step "kunci doctor on this setup (the agent running)"
# As a holder runs it: modules by discovery (SoftHSM's is registered with p11-kit; named when
# this machine's p11-kit does not list it).
doctor_modules=()
grep -q softhsm "$tmp/modules.out" || doctor_modules=(--module "$softhsm_module")
run_kunci "" doctor --port "$agent_port" "${doctor_modules[@]}"
cat "$tmp/kunci.out" "$tmp/kunci.err"
[ "$status" -eq 0 ] || fail "kunci doctor exited $status"
doctor_line() {
    grep -Eq "$1" "$tmp/kunci.out" || fail "kunci doctor: no line $2"
}
doctor_line '^OK +config +read /etc/kunci/agent\.conf' "reading /etc/kunci/agent.conf"
doctor_line "^OK +origins .*$origin" "with the configured origin"
doctor_line '^OK +module +.*softhsm.*SoftHSM' "naming SoftHSM's module"
doctor_line '^OK +modules +known vendor paths: /usr/share/kunci/known-modules\.txt' \
    "reading the installed known-modules.txt"
doctor_line '^OK +token +"deb-test"' "for the token deb-test"
doctor_line "^OK +agent +kunci-agent .* answers on ws://127\\.0\\.0\\.1:$agent_port/v1" \
    "saying the agent answers"
doctor_line "^OK +state +$state " "saying the state dir is OK"
doctor_line "^OK +lock +held by kunci-agent \\(pid $agent_pid\\)" "naming the agent holding the lock"
doctor_line '^OK +journal +2 renewals, 0 awaiting a certificate' "counting the renewals"
doctor_line '^OK +audit +audit log intact: [0-9]+ records' "saying the audit chain is intact"
! grep -q '^FAIL' "$tmp/kunci.out" || fail "kunci doctor has a FAIL line"
stop_agent

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
for policy in $policies $loopback_policies; do
    [ ! -e "$policy" ] || fail "$policy still there after dpkg -r"
done
[ "$firefox_ours" = no ] || [ ! -e "$firefox_policy" ] ||
    fail "$firefox_policy still there after dpkg -r"
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
