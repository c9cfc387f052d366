"""The service's on-chain side: its parent VASP account, keys, credential, and what it reads from the chain.

The service holds two keys in --data: the parent VASP's account key (signs payments) and the
compliance key (signs off-chain messages and travel-rule attestations; published on chain with the
base URL). On a devnet the faucet creates the account and registers the Diem ID domain; on a real
network the issuer's onboarding does, and the service only publishes its base URL and compliance key.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import nacl.utils

from contracts.transaction_builder import Account as LocalAccount, compose_rotate_dual_attestation_info
from primitives.account_identifier import MAINNET_HRP, TESTNET_HRP, AccountIdentifier, encode_account_identifier
from primitives.keys import PrivateKey, is_valid_public_key
from primitives.types.names import AccountAddress
from wallet.client import Client
from wallet.errors import WalletError
from wallet.models import Account
from wallet_service.limits import DOMAIN_MAP_REFRESH_S, FLOAT_MINT_MICRO

ACCOUNT_KEY_FILE = "account.key"
COMPLIANCE_KEY_FILE = "compliance.key"
KEY_FILE_MODE = 0o600
SECRET_BYTES = 32
MAINNET_CHAIN_ID = 1
TREASURY_COMPLIANCE = AccountAddress.TREASURY_COMPLIANCE.value
DOMAIN_EVENTS_PAGE = 100


class SetupError(Exception):
    """The service cannot set up its on-chain account (reported at start, the service does not run)."""


def load_or_create_secret(path: Path) -> bytes:
    """Return the 32 secret bytes stored (as hex) at path, creating random ones (mode 0600, fsynced) first."""
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(nacl.utils.random(SECRET_BYTES).hex())
            handle.flush()
            os.fsync(handle.fileno())
    try:
        secret = bytes.fromhex(path.read_text().strip())
    except ValueError:
        secret = b""
    if len(secret) != SECRET_BYTES:
        raise SetupError(f"{path} must hold {SECRET_BYTES * 2} hex characters")
    return secret


def load_or_create_key(path: Path) -> PrivateKey:
    """Return the Ed25519 key stored at path, creating a random one on first start."""
    return PrivateKey(load_or_create_secret(path))


def get_hrp(chain_id: int) -> str:
    """Return the account-identifier prefix of a chain (DIP-5: dm on mainnet, tdm elsewhere)."""
    return MAINNET_HRP if chain_id == MAINNET_CHAIN_ID else TESTNET_HRP


@dataclass(frozen=True)
class Credential:
    """A VASP's published off-chain endpoint and compliance key (followed from a child to its parent)."""

    address: bytes
    base_url: str
    compliance_key: bytes


@dataclass
class Chain:
    """What the service knows and caches about the chain it serves."""

    client: Client
    account: LocalAccount
    compliance_key: PrivateKey
    chain_id: int
    hrp: str
    faucet_enabled: bool
    dual_attestation_limit: int = 0
    exchange_rates: dict[str, float] = field(default_factory=dict)
    domain_map: dict[str, bytes] = field(default_factory=dict)
    domain_map_read_at: float = 0.0
    domain_events_read: int = 0

    @property
    def address(self) -> bytes:
        """The parent VASP address."""
        return self.account.address

    def get_identifier(self, subaddress: bytes | None = None) -> str:
        """Return the service's account identifier, with a subaddress or the zero one."""
        return encode_account_identifier(self.hrp, AccountAddress(self.address), subaddress)

    def get_identifier_of(self, address: bytes) -> str:
        """Return another VASP's account identifier (zero subaddress)."""
        return encode_account_identifier(self.hrp, AccountAddress(address))

    def decode_identifier(self, text: str) -> AccountIdentifier:
        """Decode an account identifier of this chain's prefix (DecodeError otherwise)."""
        return AccountIdentifier.decode(text, self.hrp)

    async def refresh_parameters(self) -> None:
        """Read the travel-rule limit and the currencies' exchange rates."""
        self.dual_attestation_limit = (await self.client.get_metadata()).dual_attestation_limit or 0
        currencies = await self.client.get_currencies()
        self.exchange_rates = {currency.code: currency.to_xdx_exchange_rate for currency in currencies}

    def is_travel_rule_amount(self, currency: str, amount_micro: int) -> bool:
        """Return True iff a payment needs the off-chain KYC exchange (ceil(rate × amount) ≥ limit)."""
        return math.ceil(self.exchange_rates[currency] * amount_micro) >= self.dual_attestation_limit

    async def get_credential(self, address: bytes) -> Credential | None:
        """Return the VASP credential behind an address (its parent's for a child), or None."""
        view = await self.client.get_account(address)
        if view is not None and view.role.parent_vasp_address:
            view = await self.client.get_account(bytes.fromhex(view.role.parent_vasp_address))
        if view is None or not view.role.base_url or not view.role.compliance_key:
            return None
        try:
            key = bytes.fromhex(view.role.compliance_key)
        except ValueError:
            return None
        if not is_valid_public_key(key):
            return None
        return Credential(bytes.fromhex(view.address), view.role.base_url, key)

    async def is_own_address(self, address: bytes) -> bool:
        """Return True iff an address is the service's parent VASP (or one of its children)."""
        if address == self.address:
            return True
        view = await self.client.get_account(address)
        return bool(view and view.role.parent_vasp_address
                    and bytes.fromhex(view.role.parent_vasp_address) == self.address)

    async def get_domain_owner(self, domain: str) -> bytes | None:
        """Return the parent VASP that holds a Diem ID domain (from treasury compliance's domain events)."""
        if time.monotonic() - self.domain_map_read_at > DOMAIN_MAP_REFRESH_S or domain.lower() not in self.domain_map:
            await self.refresh_domain_map()
        return self.domain_map.get(domain.lower())

    async def refresh_domain_map(self) -> None:
        """Replay new DiemIdDomainEvents into the domain → address map."""
        treasury = await self.client.must_get_account(TREASURY_COMPLIANCE)
        key = treasury.role.raw.get("diem_id_domain_events_key")
        while key:
            events = await self.client.get_events(key, self.domain_events_read, DOMAIN_EVENTS_PAGE)
            for event in events:
                self.apply_domain_event(event.data.raw)
            self.domain_events_read += len(events)
            if len(events) < DOMAIN_EVENTS_PAGE:
                break
        self.domain_map_read_at = time.monotonic()

    def apply_domain_event(self, data: dict) -> None:
        """Add or remove one domain of the map."""
        domain, address = str(data.get("domain", "")).lower(), str(data.get("address", ""))
        if data.get("removed"):
            self.domain_map.pop(domain, None)
        elif domain and len(address) == 32:
            self.domain_map[domain] = bytes.fromhex(address)

    async def get_own_domains(self) -> tuple[str, ...]:
        """Return the Diem ID domains registered to the parent VASP."""
        view = await self.client.get_account(self.address)
        return () if view is None else tuple(domain.lower() for domain in view.role.diem_id_domains)


async def open_chain(client: Client, data_dir: Path, faucet_enabled: bool) -> Chain:
    """Load the keys from data_dir and read the chain id and parameters."""
    account = LocalAccount(load_or_create_key(data_dir / ACCOUNT_KEY_FILE))
    compliance_key = load_or_create_key(data_dir / COMPLIANCE_KEY_FILE)
    metadata = await client.get_metadata()
    chain = Chain(client, account, compliance_key, metadata.chain_id, get_hrp(metadata.chain_id), faucet_enabled)
    await chain.refresh_parameters()
    return chain


async def ensure_parent_account(chain: Chain, domain: str | None) -> Account:
    """Create the parent VASP (and its Diem ID domain) through the faucet on a devnet; refuse elsewhere."""
    view = await chain.client.get_account(chain.address)
    missing_domain = domain is not None and (view is None or domain not in view.role.diem_id_domains)
    if view is None or missing_domain or (view.get_balance("XUS") < FLOAT_MINT_MICRO // 2 and chain.faucet_enabled):
        if not chain.faucet_enabled:
            raise SetupError(f"parent VASP account {chain.address.hex()} does not exist or lacks domain {domain!r}: "
                             "the issuer must create it (or run against a devnet with --faucet)")
        try:
            await chain.client.mint(chain.account.auth_key, FLOAT_MINT_MICRO, "XUS",
                                    diem_id_domain=domain if missing_domain else None)
        except WalletError as error:
            raise SetupError(f"the faucet could not set up {chain.address.hex()}: {error}") from None
        view = await chain.client.must_get_account(chain.address)
    if view.role.type != "parent_vasp":
        raise SetupError(f"{chain.address.hex()} is a {view.role.type} account, the service needs a parent VASP")
    return view


def compose_credential_update(chain: Chain, view: Account, base_url: str):  # noqa: ANN201
    """Return the rotate_dual_attestation_info payload if the published credential differs, else None."""
    key_hex = chain.compliance_key.public_key().hex()
    if view.role.base_url == base_url and (view.role.compliance_key or "").lower() == key_hex:
        return None
    return compose_rotate_dual_attestation_info(base_url.encode(), bytes.fromhex(key_hex))
