"""Compliance in the node: admission hooks before the mempool, commit-time indexes, the regulator API."""
