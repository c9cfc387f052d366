"""The native wallet SDK: transaction builder, JSON-RPC client, keystore and CLI (issue D)."""
