"""Admission hooks: policies run on every JSON-RPC submission before the mempool (see docs/compliance.md)."""
