"""DiemBFT v4 (Jolteon) consensus core: pure, deterministic, driven by step(state, event) -> (state, effects)."""
