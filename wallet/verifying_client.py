"""A verifying client: every value it returns is checked against a certified ledger info.

It starts from a trust anchor (the genesis waypoint or a known validator set), follows epoch-change
proofs, verifies the latest commit certificate, then checks sparse-Merkle proofs for state reads
(account, sequence number, balances) and accumulator proofs for transactions. Anything that does not
verify raises VerificationError; nothing unverified is returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts.framework import account as account_module
from contracts.framework import currency as currency_module
from contracts.state import AccumulatorConsistencyProof, compute_event_root, verify_consistency
from contracts.state.event_proof import EventWithProof
from contracts.state.hashes import compute_event_hashes
from contracts.vm.structs import ResourceType
from primitives.certified.ledger_info import GENESIS_LEDGER_INFO_EPOCH, LedgerInfo
from primitives.certified.trust import TrustedState, Waypoint
from primitives.errors import DecodeError
from primitives.types.events import ContractEvent
from primitives.types.transactions import SignedTransaction
from wallet.client import Client
from wallet.errors import VerificationError
from wallet.models import Account, Event, Transaction
from wallet.proof_api import MAX_PROOF_ROUNDS, ProofApi, TransactionWithProof
from wallet.verify import parse_waypoint, ratchet, verify_state_value, verify_transaction_info
from wallet.view_checks import ADDRESS_LENGTH, check_event_view, check_event_views, check_view_hash, decode_envelope

EXECUTED_STATUS_CODE = 4001  # TransactionInfo.status_code of an executed transaction
EVENT_KEY_COUNTER_LENGTH = 8
PROOF_PAGE_SIZE_MAX = 100  # the node's page limit for proof methods (docs/json-rpc.md, "Limits")


@dataclass(frozen=True, slots=True)
class VerifiedAccountState:
    """An account's proven state at a block-end version: existence, sequence number, auth key, balances."""

    address: bytes
    version: int
    exists: bool
    sequence_number: int
    authentication_key: bytes
    balances: tuple[tuple[str, int], ...]

    def get_balance(self, currency: str = "XUS") -> int:
        """Return the proven balance in micro-units (0 when the account holds none of currency)."""
        return next((amount for code, amount in self.balances if code == currency), 0)


def get_balance_type(currency: str) -> ResourceType:
    """Return the resource type Balance<currency>."""
    return account_module.Balance.of(currency_module.tag_of_code(currency.encode("ascii")))


class VerifyingClient:
    """Wraps a Client; reads go through proofs checked against the trusted validator set."""

    def __init__(self, client: Client, trusted: TrustedState) -> None:
        self.client = client
        self.proofs = ProofApi(client)
        self.trusted = trusted

    @classmethod
    def from_waypoint(cls, client: Client, waypoint: str | Waypoint, chain_id: int) -> VerifyingClient:
        """Trust only the chain's genesis hash."""
        anchor = parse_waypoint(waypoint) if isinstance(waypoint, str) else waypoint
        client.expected_chain_id = chain_id
        return cls(client, TrustedState.from_waypoint(anchor, chain_id))

    @property
    def ledger_info(self) -> LedgerInfo:
        """Return the newest verified ledger info (sync() first)."""
        if self.trusted.latest is None:
            raise VerificationError("no ledger info verified yet: call sync() first")
        return self.trusted.latest

    async def sync(self) -> LedgerInfo:
        """Fetch the latest certificate and the epoch changes since our last one; verify and ratchet."""
        for _ in range(MAX_PROOF_ROUNDS):
            previous = self.trusted
            known = 0 if previous.latest is None else previous.latest.version
            certificate, proof, consistency = await self.proofs.get_state_proof(known)
            if proof.more and proof.ledger_infos:
                # Ratchet to the last epoch the page proves, then ask for the rest from there.
                self.trusted = ratchet(previous, proof, proof.ledger_infos[-1])
                continue
            trusted = ratchet(previous, proof, certificate)
            _check_extension(trusted, previous.latest, certificate.ledger_info, consistency)
            self.trusted = trusted
            return self.ledger_info
        raise VerificationError(f"epoch change proofs did not end within {MAX_PROOF_ROUNDS} pages")

    async def get_account_state(self, address: bytes, currencies: tuple[str, ...] = ("XUS",)) -> VerifiedAccountState:
        """Return the proven DiemAccount and balances of address at the latest verified ledger info."""
        info = await self.sync()
        rtypes = [account_module.ACCOUNT] + [get_balance_type(code) for code in currencies]
        values = await self._prove_resources(address, rtypes, info)
        return _decode_account_state(address, info.version, values[0], list(zip(currencies, values[1:])))

    async def get_resources(self, address: bytes, rtypes: list[ResourceType], version: int | None = None
                            ) -> tuple[int, list[bytes | None]]:
        """Return (proven version, values) of the resources rtypes of address, at the latest verified ledger
        info or, given version, at the last block end at or before it (None: the resource is absent)."""
        info = await self.sync()
        if version is not None and version > info.version:
            raise VerificationError(f"version {version} is after the verified ledger version {info.version}")
        return await self._prove_resources_at(address, rtypes, info, version)

    async def _prove_resources(self, address: bytes, rtypes: list[ResourceType], info: LedgerInfo) -> list[bytes | None]:
        """Return the proven values (None: absent) of the resources rtypes of address at info's version."""
        return (await self._prove_resources_at(address, rtypes, info, None))[1]

    async def _prove_resources_at(self, address: bytes, rtypes: list[ResourceType], info: LedgerInfo,
                                  at_version: int | None) -> tuple[int, list[bytes | None]]:
        keys = [rtype.state_key(address) for rtype in rtypes]  # computed here, never taken from the node
        tags = [r.struct_tag for r in rtypes]
        version, proven = await self.proofs.get_state_values(address, tags, info.version, at_version)
        if at_version is None and version != info.version:
            raise VerificationError(f"state proven at version {version}, not at the verified ledger version {info.version}")
        if at_version is not None and version > at_version:
            raise VerificationError(f"state proven at version {version}, after the requested version {at_version}")
        values = []
        for key in keys:
            if key not in proven:
                raise VerificationError(f"the node sent no proof for state key {key.hex()} of {address.hex()}")
            value, proof = proven[key]
            verify_state_value(info, version, key, value, proof)
            values.append(value)
        return version, values

    async def get_balance(self, address: bytes, currency: str = "XUS") -> int:
        """Return the proven balance of address in micro-units."""
        return (await self.get_account_state(address, (currency,))).get_balance(currency)

    async def get_account(self, address: bytes, currencies: tuple[str, ...] = ("XUS",)) -> Account | None:
        """Return the node's account view after checking its sequence number and balances against proofs."""
        view = await self.client.get_account(address)
        state = await self.get_account_state(address, currencies)
        if view is None or not state.exists:
            if view is not None or state.exists:
                raise VerificationError(f"the node's account view of {address.hex()} contradicts the proven state")
            return None
        if view.version < state.version:
            raise VerificationError("the account view is older than the verified ledger")
        if view.version == state.version:
            claimed = (view.sequence_number, tuple((code, view.get_balance(code)) for code in currencies))
            proven = (state.sequence_number, state.balances)
            if claimed != proven:
                raise VerificationError(f"account {address.hex()}: the node says sequence/balances {claimed}, "
                                        f"the proofs say {proven}")
        return view

    async def get_account_transaction(self, address: bytes, sequence_number: int,
                                      include_events: bool = False) -> Transaction | None:
        """Return the sender's committed transaction, verified; a hidden one (None while proven) raises."""
        view = await self.client.get_account_transaction(address, sequence_number, include_events)
        if view is None:
            state = await self.get_account_state(address, ())
            if state.exists and state.sequence_number > sequence_number:
                raise VerificationError(f"the node hides {address.hex()}#{sequence_number}, "
                                        f"which the proven sequence number {state.sequence_number} covers")
            return None
        verified = await self.verify_transaction(view)
        envelope = decode_envelope(verified)
        if not isinstance(envelope.value, SignedTransaction) or (
                envelope.value.sender.value, envelope.value.sequence_number) != (address, sequence_number):
            raise VerificationError(f"the node answered another transaction for {address.hex()}#{sequence_number}")
        return verified

    async def get_transactions(self, start_version: int, limit: int, include_events: bool = False) -> list[Transaction]:
        """Return transactions by version, each verified against the ledger accumulator."""
        return [view for view, _events in await self.get_proven_transactions(start_version, limit, include_events)]

    async def get_proven_transactions(self, start_version: int, limit: int, include_events: bool = False
                                      ) -> list[tuple[Transaction, tuple[ContractEvent, ...]]]:
        """Return transactions by version, each verified, with its certified events (BCS, in emission order)."""
        views = await self.client.get_transactions(start_version, limit, include_events)
        for expected, view in enumerate(views, start=start_version):
            if view.version != expected:
                raise VerificationError(f"the node answered version {view.version} where {expected} was due")
        if not views:
            return []
        info = await self.sync()
        if views[-1].version > info.version:
            raise VerificationError(f"version {views[-1].version} is after the verified ledger version {info.version}")
        verified = []
        for first in range(0, len(views), PROOF_PAGE_SIZE_MAX):
            page = views[first:first + PROOF_PAGE_SIZE_MAX]
            proven = await self.proofs.get_transactions(page[0].version, len(page), info.version, True)
            if len(proven) != len(page):
                raise VerificationError(f"{len(proven)} transaction proofs for {len(page)} transactions "
                                        f"from version {page[0].version}")
            verified += [(self._check_proven_transaction(view, item, info), item.events or ())
                         for view, item in zip(page, proven)]
        return verified

    async def get_events(self, key: str, start: int, limit: int) -> list[Event]:
        """Return the stream's events from sequence start, each proven; the JSON views must match them."""
        proven = await self.get_proven_events(key, start, limit)
        views = await self.client.get_events(key, start, limit)
        if len(views) < len(proven):
            raise VerificationError(f"event stream {key}: {len(views)} events shown, {len(proven)} certified")
        for shown, item in zip(views, proven):
            check_event_view(shown, item.event, item.transaction_version)
        return views[:len(proven)]

    async def get_proven_events(self, key: str, start: int, limit: int) -> list[EventWithProof]:
        """Return the stream's events from sequence start as certified (BCS), each proven against the ledger."""
        info = await self.sync()
        proven = await self.proofs.get_events(key, start, limit, info.version)
        for expected, item in enumerate(proven, start=start):
            event = item.event
            if event.key.hex() != key.lower() or event.sequence_number != expected:
                raise VerificationError(f"event stream {key}: expected sequence {expected}, got "
                                        f"{event.key.hex()}#{event.sequence_number}")
            if not item.verify(info.accumulator_root, info.version):
                raise VerificationError(f"event {key}#{expected} is not proven by the certified ledger")
        await self._check_page_complete(key, start, limit, len(proven), info)
        return proven

    async def _check_page_complete(self, key: str, start: int, limit: int, count: int, info: LedgerInfo) -> None:
        """For an account's payment streams, the proven handle counter says how many events must be there."""
        try:
            creator = bytes.fromhex(key)[EVENT_KEY_COUNTER_LENGTH:]
        except ValueError:
            raise VerificationError(f"event key {key!r} is not hex") from None
        if len(creator) != ADDRESS_LENGTH:
            return
        (account_bytes,) = await self._prove_resources(creator, [account_module.ACCOUNT], info)
        if account_bytes is None:
            return
        try:
            resource: Any = account_module.ACCOUNT.decode(account_bytes)
        except (ValueError, DecodeError) as error:
            raise VerificationError(f"proven account of {creator.hex()} does not decode: {error}") from None
        for handle in (resource.received_events, resource.sent_events):
            if bytes(handle.guid).hex() == key.lower() and count < min(limit, max(0, handle.counter - start)):
                raise VerificationError(f"event stream {key}: {count} events returned from {start}, but the "
                                        f"certified counter is {handle.counter}")

    async def verify_transaction(self, view: Transaction) -> Transaction:
        """Check a transaction view: its bytes, hash, status and events against the certified TransactionInfo."""
        info = self.ledger_info if self.trusted.latest is not None else await self.sync()
        if view.version > info.version:
            info = await self.sync()
        proven = await self.proofs.get_transaction(view.version, info.version, include_events=True)
        return self._check_proven_transaction(view, proven, info)

    @staticmethod
    def _check_proven_transaction(view: Transaction, proven: TransactionWithProof, info: LedgerInfo) -> Transaction:
        """Check a view's bytes, hash, status and events against its proven TransactionInfo under info."""
        computed = check_view_hash(view)
        if proven.transaction_bytes != bytes.fromhex(view.bytes):
            raise VerificationError(f"the proof of version {view.version} is for another transaction")
        verify_transaction_info(info, view.version, computed, proven.proof)
        transaction_info = proven.proof.transaction_info
        is_executed = transaction_info.status_code == EXECUTED_STATUS_CODE
        if is_executed != view.vm_status.is_executed():
            raise VerificationError(f"version {view.version}: the node reports status {view.vm_status.type!r}, the "
                                    f"certified status code is {transaction_info.status_code}")
        events = proven.events or ()
        if compute_event_root(compute_event_hashes(events)) != transaction_info.event_root_hash:
            raise VerificationError(f"version {view.version}: the events do not match the certified event root")
        if view.events:
            check_event_views(view, events)
        return view


def _check_extension(trusted: TrustedState, old: LedgerInfo | None, new: LedgerInfo,
                     consistency: AccumulatorConsistencyProof | None) -> None:
    """Raise unless the new certified accumulator extends the one we trusted before (genesis at first)."""
    if old is None:
        old = next((info for info in trusted.verified if info.epoch == GENESIS_LEDGER_INFO_EPOCH), None)
    if old is None or new.version < old.version:
        return  # nothing older to compare with, or an older certificate that moves nothing
    if new.version == old.version:
        if new.accumulator_root != old.accumulator_root:
            raise VerificationError(f"two certified ledgers at version {new.version} differ")
        return
    if consistency is None or not verify_consistency(old.accumulator_root, old.version + 1, new.accumulator_root,
                                                     new.version + 1, consistency):
        raise VerificationError(f"the ledger at version {new.version} does not provably extend the verified "
                                f"ledger at version {old.version}")


def _decode_account_state(address: bytes, version: int, account_bytes: bytes | None,
                          balances: list[tuple[str, bytes | None]]) -> VerifiedAccountState:
    if account_bytes is None:
        return VerifiedAccountState(address, version, False, 0, b"", ())
    try:
        resource = account_module.ACCOUNT.decode(account_bytes)
        amounts = tuple(
            (code, _decode_balance(code, data)) for code, data in balances if data is not None)
    except (ValueError, DecodeError) as error:
        raise VerificationError(f"proven state of {address.hex()} does not decode: {error}") from None
    return VerifiedAccountState(address, version, True, resource.sequence_number, bytes(resource.authentication_key),
                                amounts)


def _decode_balance(code: str, data: bytes) -> int:
    resource: Any = account_module.Balance.of(currency_module.tag_of_code(code.encode("ascii"))).decode(data)
    return resource.coin.value


__all__ = ["EventWithProof", "TransactionWithProof", "VerifiedAccountState", "VerifyingClient", "get_balance_type"]
