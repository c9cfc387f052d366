"""Diem off-chain API v2 (DIP-1) material for wallets: JWS, command objects, payment states, errors."""
