"""The Diem-compatible JSON-RPC front door: methods, proofs, streams, the faucet and the one ledger reader."""
