"""Ledger core: the Move-like VM, the Diem-compatible framework, the executor and genesis."""
