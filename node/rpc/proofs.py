"""The proof methods (docs/json-rpc.md, "Proofs"): ledger infos, accumulator, state and event proofs as hex."""

from __future__ import annotations


from consensus.verify import MAX_BLOCK_TXNS
from contracts.framework import account, currency, designated_dealer, dual_attestation, freezing, roles, vasp
from contracts.state import AccountStateProof, TransactionInfo, TransactionInfoWithProof
from contracts.state.event_proof import EventWithProof, compute_event_proof
from contracts.vm.storage import StateView
from contracts.vm.structs import compute_state_key
from node.rpc.accounts import get_registered_codes
from node.rpc.jsonrpc import (
    INVALID_PARAMS,
    SERVER_ERROR,
    JsonObject,
    JsonRpcError,
    JsonValue,
    LedgerSnapshot,
    Method,
    invalid_params,
)
from node.rpc.ledger import CommittedEvent, CommittedTransaction, LedgerReader
from node.rpc.pacing import ReadPacer, read_chunked
from node.rpc.params import (
    check_page_size,
    get_param,
    parse_address,
    parse_bool,
    parse_event_key,
    parse_hex,
    parse_optional_u64,
    parse_u64,
)
from node.rpc.proof_types import encode_account_blob
from primitives.certified.ledger_info import (
    MAX_EPOCH_PROOF_LENGTH,
    EpochChangeProof,
    LedgerInfoWithSignatures,
    encode_epoch_change_proof,
    encode_ledger_info,
)
from primitives.errors import DecodeError
from primitives.types.type_tags import StructTag

# Proofs cost a tree or accumulator walk per item: pages are smaller than plain reads.
PROOF_PAGE_SIZE_MAX = 100
# A state checkpoint (block end) is at most one block back: its transactions plus the metadata transaction.
CHECKPOINT_SEARCH_MAX = MAX_BLOCK_TXNS + 1
# get_account_state_with_proof proves at most this many resources per call.
STRUCT_TAGS_MAX = 32


def server_error(detail: str) -> JsonRpcError:
    """Return Diem's default server error."""
    return JsonRpcError(SERVER_ERROR, f"Server error: {detail}")


def check_known_version(version: int, latest: int) -> None:
    """Reject a version above the latest committed one, with Diem's message."""
    if version > latest:
        raise JsonRpcError(INVALID_PARAMS, f"Invalid param version should be <= known latest version {latest}")


def get_default_resource_tags(view: StateView) -> list[StructTag]:
    """Return the resources an account view reads, in the documented order."""
    codes = get_registered_codes(view)
    types = [account.ACCOUNT, *(account.Balance.of(currency.tag_of_code(code)) for code in codes),
             freezing.FreezingBit.rtype(), roles.RoleId.rtype(), vasp.ParentVASP.rtype(), vasp.ChildVASP.rtype(),
             dual_attestation.Credential.rtype(), designated_dealer.DEALER]
    return [rtype.struct_tag for rtype in types]


def parse_struct_tags(method: str, value: JsonValue) -> list[StructTag] | None:
    """Return the struct tags of an optional list of hex BCS StructTags."""
    if value is None:
        return None
    if not isinstance(value, list) or not 0 < len(value) <= STRUCT_TAGS_MAX:
        raise invalid_params(method)
    try:
        return [StructTag.from_bcs(parse_hex(method, item)) for item in value]
    except (DecodeError, ValueError):
        raise invalid_params(method) from None


class ProofMethods:
    """Handlers of the proof methods over one LedgerReader."""

    def __init__(self, ledger: LedgerReader, pacer: ReadPacer | None = None) -> None:
        self.ledger = ledger
        self.pacer = pacer or ReadPacer()

    # ---- ledger infos --------------------------------------------------------------------------

    def get_certificate(self, version: int) -> LedgerInfoWithSignatures:
        """Return the commit certificate ending at version."""
        certificate = self.ledger.get_ledger_info(version)
        if certificate is None:
            raise server_error(f"no ledger info at version {version}")
        return certificate

    def get_epoch_change_proof(self, known_version: int, current_epoch: int) -> EpochChangeProof:
        """Return the epoch-ending ledger infos at or after known_version, below current_epoch."""
        low, high = 0, current_epoch
        while low < high:  # first epoch whose ending version is >= known_version
            middle = (low + high) // 2
            ending = self.ledger.get_epoch_ending_ledger_info(middle)
            if ending is None:
                raise server_error(f"no epoch-ending ledger info for epoch {middle}")
            if ending.ledger_info.version >= known_version:
                high = middle
            else:
                low = middle + 1
        end = min(current_epoch, low + MAX_EPOCH_PROOF_LENGTH)
        links = []
        for epoch in range(low, end):
            ending = self.ledger.get_epoch_ending_ledger_info(epoch)
            if ending is None:
                raise server_error(f"no epoch-ending ledger info for epoch {epoch}")
            links.append(ending)
        return EpochChangeProof(tuple(links), end < current_epoch)

    async def get_state_proof(self, snapshot: LedgerSnapshot, params: list[JsonValue]) -> JsonObject:
        known_version = parse_u64("get_state_proof", params[0])
        check_known_version(known_version, snapshot.version)
        certificate = self.get_certificate(snapshot.version)
        proof = self.get_epoch_change_proof(known_version, certificate.ledger_info.epoch)
        consistency = self.ledger.get_accumulator_consistency_proof(known_version + 1, snapshot.version + 1)
        return {
            "ledger_info_with_signatures": encode_ledger_info(certificate).hex(),
            "epoch_change_proof": encode_epoch_change_proof(proof).hex(),
            "ledger_consistency_proof": consistency.to_bcs().hex(),
        }

    async def get_accumulator_consistency_proof(self, snapshot: LedgerSnapshot, params: list[JsonValue]) -> JsonObject:
        method = "get_accumulator_consistency_proof"
        known = parse_optional_u64(method, get_param(params, 0))
        ledger_version = self.parse_ledger_version(method, snapshot, get_param(params, 1))
        old_num_leaves = 0 if known is None else known + 1
        if old_num_leaves > ledger_version + 1:
            raise invalid_params(method)
        proof = self.ledger.get_accumulator_consistency_proof(old_num_leaves, ledger_version + 1)
        return {"ledger_consistency_proof": proof.to_bcs().hex()}

    @staticmethod
    def parse_ledger_version(method: str, snapshot: LedgerSnapshot, value: JsonValue) -> int:
        """Return the ledger version a proof is against: the param, or the snapshot's."""
        ledger_version = parse_optional_u64(method, value)
        if ledger_version is None:
            return snapshot.version
        check_known_version(ledger_version, snapshot.version)
        return ledger_version

    # ---- state ---------------------------------------------------------------------------------

    def find_checkpoint(self, version: int) -> tuple[int, TransactionInfo]:
        """Return the last state checkpoint (block end) at or before version, with its TransactionInfo."""
        for candidate in range(version, max(-1, version - CHECKPOINT_SEARCH_MAX), -1):
            info = self.ledger.get_transaction_info(candidate)
            if info is None:
                raise server_error(f"no transaction info at version {candidate}")
            if info.state_root_hash is not None:
                return candidate, info
        raise server_error(f"no state checkpoint within {CHECKPOINT_SEARCH_MAX} versions of {version}")

    async def get_account_state_with_proof(self, snapshot: LedgerSnapshot, params: list[JsonValue]) -> JsonObject:
        method = "get_account_state_with_proof"
        address = parse_address(method, params[0])
        ledger_version = self.parse_ledger_version(method, snapshot, get_param(params, 2))
        version = parse_optional_u64(method, get_param(params, 1))
        version = ledger_version if version is None else version
        if version > ledger_version:
            raise invalid_params(method)
        tags = parse_struct_tags(method, get_param(params, 3))
        checkpoint, info = self.find_checkpoint(version)
        if tags is None:
            tags = get_default_resource_tags(self.ledger.get_state_view(checkpoint))
        accumulator_proof = self.ledger.get_accumulator_proof(checkpoint, ledger_version)
        resources, present, proofs = [], [], []
        for tag in tags:
            tag_bytes = tag.to_bcs()
            key = compute_state_key(address, tag_bytes)
            value, tree_proof = self.ledger.get_state_value_with_proof(key, checkpoint)
            proofs.append(tree_proof)
            if value is not None:
                present.append((tag_bytes, value))
            resources.append({
                "struct_tag": tag_bytes.hex(), "key": key.hex(), "value": None if value is None else value.hex(),
                "proof": AccountStateProof(accumulator_proof, info, tree_proof).to_bcs().hex(),
            })
        return {
            "version": checkpoint,
            "ledger_version": ledger_version,
            "blob": encode_account_blob(present).hex() if present else None,
            "proof": {
                "ledger_info_to_transaction_info_proof": accumulator_proof.to_bcs().hex(),
                "transaction_info": info.to_bcs().hex(),
                "transaction_info_to_account_proof": proofs[0].to_bcs().hex(),
            },
            "resources": resources,
        }

    # ---- transactions and events ---------------------------------------------------------------

    def get_info_with_proof(self, version: int, ledger_version: int) -> TransactionInfoWithProof:
        """Return the TransactionInfo of version and its proof against the accumulator of ledger_version."""
        info = self.ledger.get_transaction_info(version)
        if info is None:
            raise server_error(f"no transaction info at version {version}")
        return TransactionInfoWithProof(self.ledger.get_accumulator_proof(version, ledger_version), info)

    def render_proven(self, committed: CommittedTransaction, ledger_version: int, include_events: bool) -> JsonObject:
        """Return one transaction's bytes, proof and (optionally) events."""
        proof = self.get_info_with_proof(committed.version, ledger_version)
        events = [event.to_bcs().hex() for event in committed.events] if include_events else None
        return {"version": committed.version, "bytes": committed.transaction.to_bcs().hex(),
                "proof": proof.to_bcs().hex(), "events": events}

    async def get_transactions_with_proofs(self, snapshot: LedgerSnapshot, params: list[JsonValue]) -> JsonObject:
        method = "get_transactions_with_proofs"
        start, limit = parse_u64(method, params[0]), parse_u64(method, params[1])
        include_events = parse_bool(method, get_param(params, 2))
        ledger_version = self.parse_ledger_version(method, snapshot, get_param(params, 3))
        check_page_size(limit, PROOF_PAGE_SIZE_MAX)

        def read(first: int, count: int) -> list[JsonObject]:
            found = self.ledger.get_transactions(first, count)
            return [self.render_proven(committed, ledger_version, include_events) for committed in found]

        items = []
        if limit > 0 and start <= ledger_version:
            items = await read_chunked(self.pacer, read, start, min(limit, ledger_version - start + 1))
        return {"ledger_version": ledger_version, "transactions": items}

    async def get_account_transactions_with_proofs(self, snapshot: LedgerSnapshot, params: list[JsonValue]) -> JsonObject:
        method = "get_account_transactions_with_proofs"
        address, start, limit = parse_address(method, params[0]), parse_u64(method, params[1]), parse_u64(method, params[2])
        include_events = parse_bool(method, get_param(params, 3))
        ledger_version = self.parse_ledger_version(method, snapshot, get_param(params, 4))
        check_page_size(limit, PROOF_PAGE_SIZE_MAX)

        def read(first: int, count: int) -> list[JsonObject]:
            items = []
            for sequence in range(first, first + count):
                committed = self.ledger.get_transaction_by_sequence(address, sequence)
                if committed is None or committed.version > ledger_version:
                    break  # a short chunk ends the page
                items.append(self.render_proven(committed, ledger_version, include_events))
            return items

        items = await read_chunked(self.pacer, read, start, min(start + limit, 2**64) - start)
        return {"ledger_version": ledger_version, "transactions": items}

    async def get_events_with_proofs(self, snapshot: LedgerSnapshot, params: list[JsonValue]) -> list[JsonObject]:
        method = "get_events_with_proofs"
        key, start, limit = parse_event_key(method, params[0]), parse_u64(method, params[1]), parse_u64(method, params[2])
        ledger_version = self.parse_ledger_version(method, snapshot, get_param(params, 3))
        check_page_size(limit, PROOF_PAGE_SIZE_MAX)
        if limit == 0:
            return []

        def read(first: int, count: int) -> list[JsonObject]:
            results = []
            for item in self.ledger.get_events(key, first, count):
                if item.transaction_version > ledger_version:
                    break  # a short chunk ends the page
                results.append({"event_with_proof": self.prove_event(item, ledger_version).to_bcs().hex()})
            return results

        return await read_chunked(self.pacer, read, start, limit)

    def prove_event(self, item: CommittedEvent, ledger_version: int) -> EventWithProof:
        """Return the proof of one committed event against the accumulator of ledger_version."""
        found = self.ledger.get_transactions(item.transaction_version, 1)
        if not found:
            raise server_error(f"no transaction at version {item.transaction_version}")
        events = found[0].events
        index = next((i for i, event in enumerate(events)
                      if event.key == item.event.key and event.sequence_number == item.event.sequence_number), None)
        if index is None:
            raise server_error(f"event not found in transaction {item.transaction_version}")
        info_proof = self.get_info_with_proof(item.transaction_version, ledger_version)
        return EventWithProof(item.transaction_version, index, len(events), events[index],
                              info_proof.ledger_info_to_transaction_info_proof, info_proof.transaction_info,
                              compute_event_proof(events, index))

    def get_methods(self) -> list[Method]:
        """Return the proof methods with their positional-parameter bounds."""
        return [
            Method("get_state_proof", self.get_state_proof, 1, 1),
            Method("get_accumulator_consistency_proof", self.get_accumulator_consistency_proof, 0, 2),
            Method("get_account_state_with_proof", self.get_account_state_with_proof, 1, 4),
            Method("get_transactions_with_proofs", self.get_transactions_with_proofs, 2, 4),
            Method("get_account_transactions_with_proofs", self.get_account_transactions_with_proofs, 3, 5),
            Method("get_events_with_proofs", self.get_events_with_proofs, 3, 4),
        ]
