"""What every part of the running service shares: the store, the chain, the submitter and the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiohttp

from wallet_service.chain import Chain
from wallet_service.store import Store
from wallet_service.submitter import Submitter

SUPPORTED_CURRENCIES = ("XUS",)  # what users hold and pay in; XDX is a unit of account only


@dataclass
class Context:
    """The running service's shared state."""

    store: Store
    chain: Chain
    submitter: Submitter
    name: str
    base_url: str
    deposits_enabled: bool
    samples: dict[str, dict[str, Any]]
    domains: tuple[str, ...] = ()
    webhook_url: str | None = None
    webhook_secret: bytes = b""
    session: aiohttp.ClientSession | None = field(default=None, repr=False)

    def get_session(self) -> aiohttp.ClientSession:
        """Return the shared outgoing HTTP session (off-chain commands, webhooks)."""
        if self.session is None:
            self.session = aiohttp.ClientSession()
        return self.session

    def sign_compliance(self, message: bytes) -> bytes:
        """Sign with the compliance key (JWS and travel-rule attestations)."""
        return self.chain.compliance_key.sign(message)
