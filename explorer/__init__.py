"""The web face of stablechain: the public explorer, the proof of reserves and the regulator's dashboard."""
