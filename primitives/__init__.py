"""Leaf package shared by every other package: BCS, hashing, keys, limits, invariant() and the certified types."""
