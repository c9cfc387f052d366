"""Leaf package shared by every other package: BCS, hashing, keys, limits and invariant()."""
