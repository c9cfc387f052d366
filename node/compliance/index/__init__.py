"""The commit-time compliance indexes: written in each block's batch, read by the regulator API (never a chain scan)."""
