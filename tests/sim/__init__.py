"""Deterministic whole-cluster simulator for the consensus core (seeded network, disk, Twins)."""
