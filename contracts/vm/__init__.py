"""A Move-like runtime: typed resources, linear coins, signers, events, aborts, gas, overlays."""
