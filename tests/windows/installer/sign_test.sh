#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# packaging/windows/sign with a throwaway certificate authority and code-signing certificate
# made here: the programs and the MSI signed (PKCS#12 with a password, and PEM cert + key),
# verified with osslsigncode against that CA only, re-signed in place, and a file changed after
# signing refused. A release swaps in the real certificate; nothing else changes.
#
#   sign_test.sh [--agent EXE --cli EXE]     (default: placeholder programs compiled here)
# It also builds an MSI with build-msi --sign (the release path) and checks the programs packed
# in it.
# Exit 77: a tool is missing (skipped).
set -euo pipefail

source_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
sign=$source_root/packaging/windows/sign
agent='' cli=''
while [ $# -gt 0 ]; do
    case "$1" in
        --agent) agent=$2; shift 2 ;;
        --cli) cli=$2; shift 2 ;;
        *) echo "usage: sign_test.sh [--agent EXE --cli EXE]" >&2; exit 2 ;;
    esac
done
for tool in osslsigncode openssl wixl msibuild msiextract; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0 checks=0
check() {
    local what=$1; shift
    checks=$((checks + 1))
    if "$@"; then echo "ok: $what"; else failures=$((failures + 1)); echo "FAIL: $what"; fi
}

if [ -z "$agent" ] || [ -z "$cli" ]; then
    compiler=$(command -v x86_64-w64-mingw32-gcc-posix || command -v x86_64-w64-mingw32-gcc ||
        true)
    [ -n "$compiler" ] || { echo "SKIP: no programs given and no mingw compiler"; exit 77; }
    printf 'int main(void) { return 0; }\n' >"$work/placeholder.c"
    "$compiler" -o "$work/placeholder.exe" "$work/placeholder.c"
    agent=$work/placeholder.exe cli=$work/placeholder.exe
fi
mkdir "$work/out" "$work/softhsm"
cp "$agent" "$work/out/kunci-agent.exe"
cp "$cli" "$work/out/kunci.exe"
# SoftHSM's files are packed as they come: any program stands in for them here.
cp "$cli" "$work/softhsm/softhsm2.dll"
cp "$cli" "$work/softhsm/softhsm2-util.exe"

# A throwaway CA and a code-signing certificate it issued (the EKU Windows requires).
cd "$work"
openssl req -x509 -newkey rsa:3072 -nodes -keyout ca.key -out ca.pem -days 2 -sha256 \
    -subj "/CN=kunci throwaway test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
openssl req -newkey rsa:3072 -nodes -keyout signer.key -out signer.csr \
    -subj "/CN=kunci throwaway code signing/O=kunci tests" 2>/dev/null
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=critical,codeSigning" "subjectKeyIdentifier=hash" \
    "authorityKeyIdentifier=keyid" >signer.ext
openssl x509 -req -in signer.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -sha256 \
    -extfile signer.ext -out signer.pem 2>/dev/null
cat signer.pem ca.pem >chain.pem
echo 'throwaway password' >password.txt
openssl pkcs12 -export -inkey signer.key -in signer.pem -certfile ca.pem \
    -passout file:password.txt -out signer.p12
# Another CA, which must not be enough to trust the signature.
openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 \
    -subj "/CN=some other CA" 2>/dev/null

fails() { ! "$@"; }
verified() {  # verified FILE CA
    osslsigncode verify -CAfile "$2" -in "$1" >"$work/verify.log" 2>&1
}
signer_named() { grep -q "kunci throwaway code signing" "$work/verify.log"; }

check "sign the programs with the PKCS#12 and its password file" \
    "$sign" --pkcs12 signer.p12 --password-file password.txt \
    out/kunci-agent.exe out/kunci.exe
for exe in kunci-agent.exe kunci.exe; do
    check "$exe verifies against the throwaway CA" verified "out/$exe" ca.pem
    check "$exe names the signer" signer_named
    check "$exe does not verify against another CA" fails verified "out/$exe" other.pem
done

msi=$("$source_root/packaging/windows/build-msi" --version 1.0.0 --agent out/kunci-agent.exe \
    --agentw out/kunci-agent.exe --cli out/kunci.exe --softhsm "$work/softhsm" --output out)
check "sign the MSI with PEM certificate and key" \
    "$sign" --cert chain.pem --key signer.key --description "kunci 1.0.0" "$msi"
check "the MSI verifies against the throwaway CA" verified "$msi" ca.pem
check "the MSI names the signer" signer_named
check "the MSI's description is the one given" grep -q "kunci 1.0.0" "$work/verify.log"
check "a signed file is signed again in place" \
    "$sign" --cert chain.pem --key signer.key "$msi"
check "the re-signed MSI verifies" verified "$msi" ca.pem
check "the password from KUNCI_SIGN_PASSWORD" \
    env KUNCI_SIGN_PASSWORD='throwaway password' "$sign" --pkcs12 signer.p12 out/kunci.exe
cp out/kunci.exe before.exe
check "a wrong password fails" \
    fails env KUNCI_SIGN_PASSWORD=wrong "$sign" --pkcs12 signer.p12 out/kunci.exe 2>/dev/null
check "a failed signing leaves the file as it was" cmp -s before.exe out/kunci.exe

# The release path: build-msi signs the programs it packs, then the MSI.
msi=$("$source_root/packaging/windows/build-msi" --version 1.0.1 --agent "$agent" \
    --agentw "$agent" --cli "$cli" --softhsm "$work/softhsm" --output signed-by-build-msi \
    --sign --pkcs12 signer.p12 --password-file password.txt)
check "build-msi --sign: the MSI verifies" verified "$msi" ca.pem
check "build-msi --sign: the MSI's description names the version" grep -q "kunci 1.0.1" verify.log
mkdir extracted
msiextract -C extracted "$msi" >/dev/null
for exe in kunci-agent.exe kunci-agentw.exe kunci.exe softhsm2.dll softhsm2-util.exe; do
    packed=$(find extracted -name "$exe")
    check "build-msi --sign: the packed $exe verifies" verified "$packed" ca.pem
done

# A byte changed after signing: the signature no longer matches.
cp out/kunci-agent.exe tampered.exe
size=$(stat -c %s tampered.exe)
printf 'X' | dd of=tampered.exe bs=1 seek=$((size / 2)) conv=notrunc status=none
check "a changed program is refused" fails verified tampered.exe ca.pem

echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
