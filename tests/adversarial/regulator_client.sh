#!/usr/bin/env bash
# A regulator client without any stablechain code: curl asks the node who it is and sends the request, openssl
# computes the hashes, signs the request for that node and verifies the node's signature on the answer
# (docs/compliance.md, "Signing a request" and "Signed responses"; the params are given already in JCS form).
# usage: regulator_client.sh URL KEY_PEM CHAIN_ID METHOD PARAMS_JCS [NODE_ID]
#   NODE_ID (64 hex) pins the node; without it, the id the node announces at URL/node is used.
#   prints the body, then the HTTP status; exits 3 when the node is not the pinned one or names none,
#   4 when the answer is not signed by that node for this request.
set -euo pipefail
url=$1 key=$2 chain_id=$3 method=$4 params=$5 pinned=${6:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
hex() { od -An -v -tx1 | tr -d ' \n'; }
unhex() { printf "$(sed 's/../\\x&/g')"; }
byte() { printf "\\x$(printf %02x "$1")"; }
header() { tr -d '\r' < "$work/headers" | { grep -i "^$1:" || true; } | head -n 1 | sed 's/^[^:]*: *//'; }

node_id=$(curl -sS "$url/node" | sed -n 's/.*"node_id" *: *"\([0-9a-f]\{64\}\)".*/\1/p')
if [ -z "$node_id" ]; then echo "$url/node names no node id" >&2; exit 3; fi
if [ -n "$pinned" ] && [ "$pinned" != "$node_id" ]; then echo "the node is $node_id, not $pinned" >&2; exit 3; fi
printf %s "$node_id" | unhex > "$work/node_id"

openssl pkey -in "$key" -pubout -outform DER | tail -c 32 > "$work/public_key"
timestamp_ms=$(date +%s%3N)
openssl rand 16 > "$work/nonce"
method_bytes=$(printf %s "$method" | wc -c)
{
  printf %s "STABLECHAIN::RegulatorRequest::v2" | openssl dgst -sha3-256 -binary
  byte "$chain_id"
  cat "$work/node_id"
  cat "$work/public_key"
  byte "$method_bytes"  # uleb128 of a length below 128 is that one byte
  printf %s "$method"
  printf %s "$params" | openssl dgst -sha3-256 -binary
  for shift in 0 8 16 24 32 40 48 56; do byte $(( (timestamp_ms >> shift) & 255 )); done
  byte 16
  cat "$work/nonce"
} > "$work/message"
openssl pkeyutl -sign -inkey "$key" -rawin -in "$work/message" -out "$work/signature"
status=$(curl -sS -X POST "$url" -H "Content-Type: application/json" \
  -H "X-Regulator-Key: $(hex < "$work/public_key")" -H "X-Regulator-Timestamp: $timestamp_ms" \
  -H "X-Regulator-Nonce: $(hex < "$work/nonce")" -H "X-Regulator-Signature: $(hex < "$work/signature")" \
  -H "X-Regulator-Node: $node_id" -D "$work/headers" -o "$work/body" -w '%{http_code}' \
  --data-binary "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$method\",\"params\":$params}")

# The answer must be signed by the node's key over: domain, node id, u16 LE status, this request's signature, body hash.
if [ "$(header X-Regulator-Node)" != "$node_id" ]; then echo "the answer does not name node $node_id" >&2; exit 4; fi
{
  printf %s "STABLECHAIN::RegulatorResponse::v1" | openssl dgst -sha3-256 -binary
  cat "$work/node_id"
  byte $(( status & 255 )); byte $(( status >> 8 ))
  byte 64
  cat "$work/signature"
  openssl dgst -sha3-256 -binary < "$work/body"
} > "$work/response_message"
{ printf '\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00'; cat "$work/node_id"; } > "$work/node.der"  # SPKI of a raw key
openssl pkey -pubin -inform DER -in "$work/node.der" -out "$work/node.pem"
header X-Regulator-Response-Signature | unhex > "$work/response_signature"
if ! openssl pkeyutl -verify -pubin -inkey "$work/node.pem" -rawin -in "$work/response_message" \
    -sigfile "$work/response_signature" > /dev/null 2>&1; then
  echo "the answer is NOT signed by node $node_id for this request" >&2; exit 4
fi
cat "$work/body"
printf '\n%s\n' "$status"
