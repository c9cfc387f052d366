"""The imperative shell: storage, network, mempool, runtime, JSON-RPC and the CLI."""
