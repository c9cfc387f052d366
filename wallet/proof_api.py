"""The proof methods of the JSON-RPC API (docs/proofs.md), decoded into the types the verifier checks.

This is the only module that knows the JSON shape of proof answers; the proof types inside them are the
node's own (primitives.certified, contracts.state), so their bytes cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from contracts.state import AccountStateProof, AccumulatorConsistencyProof, TransactionInfoWithProof
from contracts.state.event_proof import EventWithProof
from primitives.certified.ledger_info import EpochChangeProof, LedgerInfoWithSignatures
from primitives.errors import DecodeError
from primitives.types.events import ContractEvent
from primitives.types.type_tags import StructTag
from wallet.client import Client
from wallet.errors import VerificationError
from wallet.verify import parse_certificate, parse_epoch_change_proof

T = TypeVar("T")
MAX_PROOF_ROUNDS = 100  # epoch-change proof pages followed in one sync (each holds up to 100 epochs)


@dataclass(frozen=True, slots=True)
class TransactionWithProof:
    """A transaction's BCS bytes, its accumulator proof and (when asked for) its events' BCS."""

    version: int
    transaction_bytes: bytes
    proof: TransactionInfoWithProof
    events: tuple[ContractEvent, ...] | None


def _field(result: Any, name: str, method: str) -> Any:
    if not isinstance(result, dict) or name not in result:
        raise VerificationError(f"{method}: the answer lacks {name!r}")
    return result[name]


def _hex(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise VerificationError(f"{what} must be a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise VerificationError(f"{what} is not hex") from None


def _decode_bcs(decoder: Callable[[bytes], T], data: bytes, what: str) -> T:
    try:
        return decoder(data)
    except (DecodeError, ValueError) as error:
        raise VerificationError(f"malformed {what}: {error}") from None


class ProofApi:
    """Calls get_state_proof, get_account_state_with_proof and get_transactions_with_proofs."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def get_state_proof(self, known_version: int
                              ) -> tuple[LedgerInfoWithSignatures, EpochChangeProof, AccumulatorConsistencyProof | None]:
        """Return the latest certificate, the epoch-ending ones since known_version, and the consistency proof."""
        method = "get_state_proof"
        result = await self.client.execute(method, [known_version])
        certificate = parse_certificate(_hex(_field(result, "ledger_info_with_signatures", method), "ledger info"))
        proof = parse_epoch_change_proof(_hex(_field(result, "epoch_change_proof", method), "epoch change proof"))
        raw = result.get("ledger_consistency_proof") if isinstance(result, dict) else None
        consistency = None if not raw else _decode_bcs(AccumulatorConsistencyProof.from_bcs,
                                                        _hex(raw, "consistency proof"), "consistency proof")
        return certificate, proof, consistency

    async def get_state_values(self, address: bytes, tags: list[StructTag], ledger_version: int,
                               version: int | None = None
                               ) -> tuple[int, dict[bytes, tuple[bytes | None, AccountStateProof]]]:
        """Return (checkpoint version, {state key: (value, proof)}) of the resources tags at version (default:
        ledger_version), proven against the accumulator of ledger_version."""
        method = "get_account_state_with_proof"
        at_version = ledger_version if version is None else version
        params = [address.hex(), at_version, ledger_version, [tag.to_bcs().hex() for tag in tags]]
        result = await self.client.execute(method, params)
        version = _field(result, "version", method)
        if type(version) is not int:
            raise VerificationError(f"{method}: version must be an integer")
        resources = _field(result, "resources", method)
        if not isinstance(resources, list):
            raise VerificationError(f"{method}: resources must be a list")
        proven: dict[bytes, tuple[bytes | None, AccountStateProof]] = {}
        for item in resources:
            key = _hex(_field(item, "key", method), "state key")
            raw_value = _field(item, "value", method)
            value = None if raw_value is None else _hex(raw_value, "state value")
            proof = _decode_bcs(AccountStateProof.from_bcs, _hex(_field(item, "proof", method), "state proof"),
                                "state proof")
            proven[key] = (value, proof)
        return version, proven

    async def get_transaction(self, version: int, ledger_version: int, include_events: bool) -> TransactionWithProof:
        """Return the transaction of version with its proof against the accumulator of ledger_version."""
        proven = await self.get_transactions(version, 1, ledger_version, include_events)
        if len(proven) != 1:
            raise VerificationError(f"get_transactions_with_proofs: expected one transaction for version {version}")
        return proven[0]

    async def get_transactions(self, start_version: int, limit: int, ledger_version: int,
                               include_events: bool) -> list[TransactionWithProof]:
        """Return the transactions from start_version (at most limit) with proofs against ledger_version."""
        method = "get_transactions_with_proofs"
        result = await self.client.execute(method, [start_version, limit, include_events, ledger_version])
        items = _field(result, "transactions", method)
        if not isinstance(items, list) or len(items) > limit:
            raise VerificationError(f"{method}: expected at most {limit} transactions from version {start_version}")
        return [_decode_transaction_with_proof(item, version, include_events)
                for version, item in enumerate(items, start=start_version)]

    async def get_events(self, key: str, start: int, limit: int, ledger_version: int) -> list[EventWithProof]:
        """Return the events of stream key from sequence start, each with its proof against ledger_version."""
        method = "get_events_with_proofs"
        result = await self.client.execute(method, [key, start, limit, ledger_version])
        if not isinstance(result, list):
            raise VerificationError(f"{method}: expected a list")
        return [_decode_bcs(EventWithProof.from_bcs, _hex(_field(item, "event_with_proof", method), "event proof"),
                            "event proof") for item in result]


def _decode_transaction_with_proof(item: Any, version: int, include_events: bool) -> TransactionWithProof:
    """Decode one item of get_transactions_with_proofs, which must be for version."""
    method = "get_transactions_with_proofs"
    if _field(item, "version", method) != version:
        raise VerificationError(f"{method}: answered another version than {version}")
    proof = _decode_bcs(TransactionInfoWithProof.from_bcs, _hex(_field(item, "proof", method), "transaction proof"),
                        "transaction proof")
    raw_events = item.get("events")
    events = None
    if include_events:
        if not isinstance(raw_events, list):
            raise VerificationError(f"{method}: events of version {version} are missing")
        events = tuple(_decode_bcs(ContractEvent.from_bcs, _hex(raw, "event"), "event") for raw in raw_events)
    return TransactionWithProof(version, _hex(_field(item, "bytes", method), "transaction bytes"), proof, events)
