"""`python -m cli ...` runs `stablechain ...` (tests and the devnet launcher start processes this way)."""

from cli.main import app

app()
