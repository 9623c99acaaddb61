# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034  # sourced: the recipes use the variables it sets
# Shared by the third_party/*/build recipes (sourced, not run): fetching Debian source packages
# with their recorded checksums, and running each build step under the machine's CPU lock.

# Every compile step takes this lock so that concurrent builds on the machine interleave
# step by step instead of fighting for the cores.
KUNCI_CPU_LOCK=${KUNCI_CPU_LOCK:-/tmp/kunci-cpu.lock}
KUNCI_JOBS=${KUNCI_JOBS:-$(nproc)}
MINGW_TRIPLET=x86_64-w64-mingw32
THIRD_PARTY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLCHAIN_FILE=$(cd "$THIRD_PARTY_DIR/.." && pwd)/cmake/mingw-w64-x86_64.cmake

step() {
    echo "+ $*" >&2
    flock "$KUNCI_CPU_LOCK" "$@"
}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# apt-get source needs deb-src entries; a fresh Debian 12 has only "deb" ones. Adds a
# deb-src twin of every bookworm "deb" entry (same URIs, suites, components, key), once: the
# file it writes marks it as done.
ensure_deb_src() {
    local list=/etc/apt/sources.list.d/kunci-deb-src.sources
    [ -s "$list" ] && return
    {
        # deb822 stanzas (Debian 12's default /etc/apt/sources.list.d/debian.sources)
        # (a missing file is no entry: set -e and pipefail must not end the group here)
        { cat /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } |
            awk 'BEGIN { RS = ""; ORS = "\n\n" }
            /(^|\n)Types:[^\n]*deb([ \n]|$)/ && /bookworm/ {
                sub(/Types:[^\n]*/, "Types: deb-src"); print }'
        # one-line entries of an older-style /etc/apt/sources.list (debootstrap writes one)
        { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } | awk '
            $1 == "deb" && /bookworm/ {
                line = $0; opts = ""
                if (match(line, /\[[^]]*\]/)) {
                    opts = substr(line, RSTART + 1, RLENGTH - 2)
                    line = substr(line, 1, RSTART - 1) substr(line, RSTART + RLENGTH)
                }
                n = split(line, f, " ")
                print "Types: deb-src"; print "URIs: " f[2]; print "Suites: " f[3]
                components = "Components:"
                for (i = 4; i <= n; i++) components = components " " f[i]
                print components
                if (match(opts, /signed-by=[^ ]*/))
                    print "Signed-By: " substr(opts, RSTART + 10, RLENGTH - 10)
                print "" }'
    } | as_root tee "$list" >/dev/null
    if [ ! -s "$list" ]; then
        echo "error: no bookworm 'deb' entry in /etc/apt/sources.list{,.d} to copy as deb-src" >&2
        as_root rm -f "$list"
        return 1
    fi
    as_root apt-get update -q >&2
}

# fetch_debian_source PACKAGE VERSION DIR: the source package's files into DIR (downloaded,
# not unpacked), each checked against the SHA256SUMS file next to the calling recipe.
fetch_debian_source() {
    local package=$1 version=$2 dir=$3 sums=$4
    ensure_deb_src
    mkdir -p "$dir"
    if ! apt-cache showsrc "$package" 2>/dev/null | grep -qxF "Version: $version"; then
        as_root apt-get update -q >&2
    fi
    # apt's sandbox user cannot write to a root-only temp dir: the warning about it is harmless.
    (cd "$dir" && apt-get source --download-only -q "$package=$version" >&2)
    verify_sums "$sums" "$dir"
}

# verify_sums SUMS_FILE DIR: every file listed in SUMS_FILE, as found in DIR, matches it.
verify_sums() {
    local sums=$1 dir=$2
    (cd "$dir" && sha256sum --strict --check --quiet "$sums") >&2 || {
        echo "error: checksum mismatch for the files of $sums in $dir" >&2
        return 1
    }
}
