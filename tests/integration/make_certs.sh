#!/usr/bin/env bash
# make_certs.sh OUTDIR: TLS test material for the LNS/CUPS integration tests and the demo.
#
# Creates in OUTDIR (EC P-256 keys, certificates valid for 1 day):
#   ca.pem ca.key            test CA
#   ca.der                   ca.pem in DER form
#   server.pem server.key    signed by ca, SAN DNS:localhost, IP:127.0.0.1, IP:::1, serverAuth
#   wrong-host.pem .key      signed by ca, SAN DNS:wrong.example only, serverAuth
#   other-ca.pem .key        an unrelated CA (nothing is signed by it)
#   client.pem client.key    signed by ca, CN 0016c001ff10a235, clientAuth
#   tc.key                   token file: "Authorization: Bearer NNSXS.TESTTOKEN\r\n"
#
# Idempotent: if every file exists, verifies and is valid for at least another hour, nothing is
# regenerated (so parallel users of one OUTDIR see stable files); otherwise the whole set is
# created afresh in a temporary directory and moved into OUTDIR. Every openssl call is bounded
# by a timeout. Exit status 0 = the set in OUTDIR is complete and verified.
set -euo pipefail

if [[ $# -ne 1 || -z "$1" || "$1" == -* ]]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi

out=$1
readonly client_cn=0016c001ff10a235
readonly files=(ca.pem ca.key ca.der server.pem server.key wrong-host.pem wrong-host.key
    other-ca.pem other-ca.key client.pem client.key tc.key)

ossl() {
    timeout 30 openssl "$@"
}

# Checks the set in directory $1; prints nothing, returns non-zero on any problem.
check_set() {
    local dir=$1 f
    for f in "${files[@]}"; do
        [[ -s "$dir/$f" ]] || return 1
    done
    for f in ca server wrong-host other-ca client; do
        ossl x509 -in "$dir/$f.pem" -noout -checkend 3600 >/dev/null 2>&1 || return 1
        # The key must belong to the certificate.
        [[ "$(ossl x509 -in "$dir/$f.pem" -noout -pubkey 2>/dev/null)" == \
            "$(ossl pkey -in "$dir/$f.key" -pubout 2>/dev/null)" ]] || return 1
    done
    ossl verify -CAfile "$dir/ca.pem" -purpose sslserver "$dir/server.pem" "$dir/wrong-host.pem" \
        >/dev/null 2>&1 || return 1
    ossl verify -CAfile "$dir/ca.pem" -purpose sslclient "$dir/client.pem" >/dev/null 2>&1 ||
        return 1
    ossl verify -CAfile "$dir/other-ca.pem" "$dir/other-ca.pem" >/dev/null 2>&1 || return 1
    # Negative checks: the server certificate must not verify against the unrelated CA, and the
    # DER file must be the same certificate as ca.pem.
    if ossl verify -CAfile "$dir/other-ca.pem" "$dir/server.pem" >/dev/null 2>&1; then
        return 1
    fi
    [[ "$(ossl x509 -inform DER -in "$dir/ca.der" -noout -fingerprint -sha256 2>/dev/null)" == \
        "$(ossl x509 -in "$dir/ca.pem" -noout -fingerprint -sha256 2>/dev/null)" ]] || return 1
    ossl x509 -in "$dir/client.pem" -noout -subject -nameopt multiline 2>/dev/null |
        grep -q "commonName *= *$client_cn\$" || return 1
    [[ "$(cat "$dir/tc.key")" == $'Authorization: Bearer NNSXS.TESTTOKEN\r' ]] || return 1
}

mkdir -p "$out"
if check_set "$out"; then
    exit 0
fi

tmp=$(mktemp -d "$out/.make_certs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

new_key() {
    ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve \
        -out "$tmp/$1.key" 2>/dev/null
}

serial() {
    echo "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
}

# make_ca NAME CN: self-signed CA certificate NAME.pem with key NAME.key.
make_ca() {
    local name=$1 cn=$2
    new_key "$name"
    ossl req -new -x509 -key "$tmp/$name.key" -sha256 -days 1 -subj "/O=forwarder tests/CN=$cn" \
        -set_serial "$(serial)" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash" \
        -out "$tmp/$name.pem" 2>/dev/null
}

# make_leaf NAME CN EXTENSIONS...: NAME.pem/NAME.key signed by the test CA.
make_leaf() {
    local name=$1 cn=$2
    shift 2
    new_key "$name"
    ossl req -new -key "$tmp/$name.key" -subj "/O=forwarder tests/CN=$cn" \
        -out "$tmp/$name.csr" 2>/dev/null
    {
        echo "basicConstraints=critical,CA:FALSE"
        echo "subjectKeyIdentifier=hash"
        echo "authorityKeyIdentifier=keyid"
        printf '%s\n' "$@"
    } >"$tmp/$name.ext"
    ossl x509 -req -in "$tmp/$name.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
        -set_serial "$(serial)" -sha256 -days 1 -extfile "$tmp/$name.ext" \
        -out "$tmp/$name.pem" 2>/dev/null
    rm -f "$tmp/$name.csr" "$tmp/$name.ext"
}

make_ca ca "forwarder test CA"
make_ca other-ca "unrelated test CA"
make_leaf server localhost "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" \
    "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
make_leaf wrong-host wrong.example "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" "subjectAltName=DNS:wrong.example"
make_leaf client "$client_cn" "keyUsage=critical,digitalSignature" "extendedKeyUsage=clientAuth"
ossl x509 -in "$tmp/ca.pem" -outform DER -out "$tmp/ca.der"
printf 'Authorization: Bearer NNSXS.TESTTOKEN\r\n' >"$tmp/tc.key"

if ! check_set "$tmp"; then
    echo "$0: generated certificates failed verification" >&2
    ossl verify -CAfile "$tmp/ca.pem" "$tmp/server.pem" "$tmp/wrong-host.pem" "$tmp/client.pem" >&2 ||
        true
    exit 1
fi
for f in "${files[@]}"; do
    mv -f "$tmp/$f" "$out/$f"
done
