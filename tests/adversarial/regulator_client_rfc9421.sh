#!/usr/bin/env bash
# A regulator client in the standard envelope without any stablechain code: RFC 9421 HTTP Message Signatures with
# an RFC 9530 Content-Digest, built with printf, signed and verified with openssl, sent with curl
# (docs/compliance.md, "The RFC 9421 envelope").
# usage: regulator_client_rfc9421.sh URL KEY_PEM METHOD PARAMS_JSON [NODE_ID]
#   prints the body, then the HTTP status; exits 3 when the node is not the pinned one or names none,
#   4 when the answer is not signed by that node for this request.
set -euo pipefail
url=$1 key=$2 method=$3 params=$4 pinned=${5:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
hex() { od -An -v -tx1 | tr -d ' \n'; }
unhex() { printf "$(sed 's/../\\x&/g')"; }
header() { tr -d '\r' < "$work/headers" | { grep -i "^$1:" || true; } | head -n 1 | sed 's/^[^:]*: *//'; }
sha256_b64() { openssl dgst -sha256 -binary | openssl base64 -A; }

node_id=$(curl -sS "$url/node" | sed -n 's/.*"node_id" *: *"\([0-9a-f]\{64\}\)".*/\1/p')
if [ -z "$node_id" ]; then echo "$url/node names no node id" >&2; exit 3; fi
if [ -n "$pinned" ] && [ "$pinned" != "$node_id" ]; then echo "the node is $node_id, not $pinned" >&2; exit 3; fi

body="{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$method\",\"params\":$params}"
digest=$(printf %s "$body" | sha256_b64)
keyid=$(openssl pkey -in "$key" -pubout -outform DER | tail -c 32 | hex)
path=$(printf %s "$url" | sed -E 's#^[a-zA-Z]+://[^/]+##')
signature_params="(\"@method\" \"@path\" \"content-digest\" \"x-regulator-node\");created=$(date +%s)"
signature_params+=";keyid=\"$keyid\";alg=\"ed25519\";nonce=\"$(openssl rand -hex 16)\";tag=\"stablechain-regulator\""
printf '"@method": POST\n"@path": %s\n"content-digest": sha-256=:%s:\n"x-regulator-node": %s\n"@signature-params": %s' \
  "${path:-/}" "$digest" "$node_id" "$signature_params" > "$work/base"
openssl pkeyutl -sign -inkey "$key" -rawin -in "$work/base" -out "$work/signature"
signature=$(openssl base64 -A < "$work/signature")
status=$(curl -sS -X POST "$url" -H "Content-Type: application/json" -H "Content-Digest: sha-256=:$digest:" \
  -H "X-Regulator-Node: $node_id" -H "Signature-Input: regulator=$signature_params" \
  -H "Signature: regulator=:$signature:" -D "$work/headers" -o "$work/body" -w '%{http_code}' --data-binary "$body")

# The answer: label "node", keyid the node id, over ("@status" "content-digest" "signature";req;key="regulator").
answer_params=$(header Signature-Input | sed -n 's/^node=//p')
answer_signature=$(header Signature | sed -n 's/^node=:\(.*\):$/\1/p')
answer_digest=$(sha256_b64 < "$work/body")
expected_params="(\"@status\" \"content-digest\" \"signature\";req;key=\"regulator\");created="
if [ "${answer_params#"$expected_params"}" = "$answer_params" ] || [ "$(header Content-Digest)" != "sha-256=:$answer_digest:" ] \
    || ! printf %s "$answer_params" | grep -q ";keyid=\"$node_id\";alg=\"ed25519\";tag=\"stablechain-regulator\"$"; then
  echo "the answer is NOT signed by node $node_id for this request" >&2; exit 4
fi
printf '"@status": %s\n"content-digest": sha-256=:%s:\n"signature";req;key="regulator": :%s:\n"@signature-params": %s' \
  "$status" "$answer_digest" "$signature" "$answer_params" > "$work/answer_base"
printf %s "$answer_signature" | openssl base64 -d -A > "$work/answer_signature"
{ printf '\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00'; printf %s "$node_id" | unhex; } > "$work/node.der"
openssl pkey -pubin -inform DER -in "$work/node.der" -out "$work/node.pem"
if ! openssl pkeyutl -verify -pubin -inkey "$work/node.pem" -rawin -in "$work/answer_base" \
    -sigfile "$work/answer_signature" > /dev/null 2>&1; then
  echo "the answer is NOT signed by node $node_id for this request" >&2; exit 4
fi
cat "$work/body"
printf '\n%s\n' "$status"
