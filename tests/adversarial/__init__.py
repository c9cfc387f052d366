"""Attacks on every surface a node exposes, and the limits that hold them (docs/security.md)."""
