"""The imperative shell: runtime, storage, network, mempool, JSON-RPC, compliance and start-up."""
