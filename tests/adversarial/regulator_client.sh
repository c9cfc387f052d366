#!/usr/bin/env bash
# A regulator client without any stablechain code: openssl computes the hashes and the Ed25519 signature, curl
# sends the request (docs/compliance.md, "Signing a request"; the params are given already in JCS form).
# usage: regulator_client.sh URL KEY_PEM CHAIN_ID METHOD PARAMS_JCS   -> prints the body, then the HTTP status
set -euo pipefail
url=$1 key=$2 chain_id=$3 method=$4 params=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
hex() { od -An -v -tx1 | tr -d ' \n'; }
byte() { printf "\\x$(printf %02x "$1")"; }

openssl pkey -in "$key" -pubout -outform DER | tail -c 32 > "$work/public_key"
timestamp_ms=$(date +%s%3N)
openssl rand 16 > "$work/nonce"
method_bytes=$(printf %s "$method" | wc -c)
{
  printf %s "STABLECHAIN::RegulatorRequest::v1" | openssl dgst -sha3-256 -binary
  byte "$chain_id"
  cat "$work/public_key"
  byte "$method_bytes"  # uleb128 of a length below 128 is that one byte
  printf %s "$method"
  printf %s "$params" | openssl dgst -sha3-256 -binary
  for shift in 0 8 16 24 32 40 48 56; do byte $(( (timestamp_ms >> shift) & 255 )); done
  byte 16
  cat "$work/nonce"
} > "$work/message"
openssl pkeyutl -sign -inkey "$key" -rawin -in "$work/message" -out "$work/signature"
curl -sS -X POST "$url" -H "Content-Type: application/json" \
  -H "X-Regulator-Key: $(hex < "$work/public_key")" -H "X-Regulator-Timestamp: $timestamp_ms" \
  -H "X-Regulator-Nonce: $(hex < "$work/nonce")" -H "X-Regulator-Signature: $(hex < "$work/signature")" \
  --data-binary "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$method\",\"params\":$params}" -w '\n%{http_code}\n'
