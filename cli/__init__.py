"""The command-line apps: `stablechain` and its sub-commands; the only package that imports every other."""
