"""What consensus, the ledger and clients all verify: certified types, their domains, quorum and trust rules."""
