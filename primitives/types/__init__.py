"""Diem's BCS types (diem-compat §3.2), one module per section: names, type tags, scripts, events,
write sets, transactions and what the ledger records."""
