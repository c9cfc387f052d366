"""Scenarios: a node that sees a validator equivocate submits evidence once; the chain slashes (burns) the stake."""

from __future__ import annotations

from dataclasses import replace

import pytest

from consensus import events as ev
from consensus.state import CoreConfig
from consensus.types import Block, ProposalMsg, Vote, VoteMsg, encode_message
from contracts.framework import DIEM_ROOT, TESTNET_DD, currency, staking
from contracts.genesis import STAKING_WITHOUT_PERIODIC_EPOCHS, DealerConfig, GenesisConfig, ValidatorConfig, build_genesis
from contracts.vm.context import Context
from contracts.vm.gas import UnmeteredGas
from contracts.vm.storage import BlockState
from node.genesis import make_genesis_commit, make_genesis_transaction
from node.mempool import Mempool
from node.runtime.application import ContractsApplication
from node.runtime.config import RuntimeConfig
from node.runtime.evidence import (
    EVIDENCE_EXPIRATION_SECS,
    EVIDENCE_GAS_UNIT_PRICE,
    EvidenceAccount,
)
from node.runtime.runtime import Runtime
from node.runtime.wire import CHANNEL_CONSENSUS, CHANNEL_TRANSACTION, BroadcastData, decode_envelope, encode_envelope
from node.storage import MemoryStore
from node.storage.views import StoreStateView
from primitives.certified.blocks import BlockInfo, VoteData, compute_block_header, compute_block_id
from primitives.certified.domains import PROPOSAL_DOMAIN, VOTE_DOMAIN, compute_signing_bytes
from primitives.certified.ledger_info import compute_genesis_hash
from primitives.certified.plain import to_plain
from primitives.certified.signatures import Ed25519Scheme, Ed25519Signer
from primitives.certified.validators import ValidatorInfo, ValidatorSet
from primitives.codec import pack
from primitives.keys import PrivateKey
from primitives.limits import MAX_TRANSACTION_SIZE_BYTES
from primitives.types.events import ContractEvent
from primitives.types.names import AccountAddress
from primitives.types.transactions import SignedTransaction
from tests.contracts.framework.staking.helpers import decode_event
from tests.node.runtime.harness import CHAIN_ID, DD_KEY, DR_KEY, TC_KEY, Cluster, Node, get_sent_proposals
from wallet.validator import compose_equivocation_evidence

STAKE_MICRO = 10_000_000
VALIDATORS = 4
XUS = currency.tag_of_code(b"XUS")
ACCOUNT_KEYS = [PrivateKey.from_seed_material(f"evidence-account-{i}".encode()) for i in range(VALIDATORS)]
CONSENSUS_KEYS = [PrivateKey.from_seed_material(f"evidence-consensus-{i}".encode()) for i in range(VALIDATORS)]
ADDRESSES = [key.public_key().address() for key in ACCOUNT_KEYS]
CONSENSUS_KEY_OF = dict(zip(ADDRESSES, CONSENSUS_KEYS))


def make_staking_genesis():
    """Four validators with real Ed25519 consensus keys, staked in their pools (powers = stakes)."""
    validators = ValidatorSet.create([
        ValidatorInfo(address, key.public_key().data, key.public_key().data, STAKE_MICRO)
        for address, key in zip(ADDRESSES, CONSENSUS_KEYS)])
    config = GenesisConfig(
        DR_KEY.public_key().data, TC_KEY.public_key().data, chain_id=CHAIN_ID,
        dealers=(DealerConfig(TESTNET_DD, DD_KEY.public_key().data, initial_balance=10**12),),
        validators=tuple(ValidatorConfig(address, STAKE_MICRO, consensus.public_key().data,
                                         consensus.public_key().data, account.public_key().data, b"v%d" % i)
                         for i, (address, consensus, account) in enumerate(zip(ADDRESSES, CONSENSUS_KEYS, ACCOUNT_KEYS))),
        staking=STAKING_WITHOUT_PERIODIC_EPOCHS,
    )
    output = build_genesis(config)
    transaction = make_genesis_transaction(output.write_set, output.events)
    commit, certificate = make_genesis_commit(transaction, output.write_set, output.events, validators)
    return commit, compute_genesis_hash(certificate), validators


class StakingCluster(Cluster):
    """The harness cluster on a staking genesis; each node signs consensus with Ed25519 and evidence with its account."""

    def __init__(self, with_account: bool = True) -> None:  # noqa: D107 - the harness on a staking genesis
        self.with_account = with_account
        super().__init__(keys=list(ACCOUNT_KEYS), genesis=make_staking_genesis())

    def make_runtime(self, node: Node) -> Runtime:
        consensus_key = CONSENSUS_KEY_OF[node.address]
        core = CoreConfig(node.address, Ed25519Signer(consensus_key), Ed25519Scheme(), CHAIN_ID)
        account = EvidenceAccount.from_key(node.key) if self.with_account else None
        return Runtime(RuntimeConfig(core, evidence_account=account), node.store, ContractsApplication(), Mempool(),
                       self.clock)


def signed_vote_bytes(runtime: Runtime, author: bytes, block_id: bytes) -> tuple[bytes, VoteData, bytes]:
    """Return peer bytes of author's signed vote on a block of runtime's current round, its data and signature."""
    state = runtime.state
    parent = state.highest_qc.certified_block
    round_ = state.current_round
    data = VoteData(BlockInfo(state.epoch_state.epoch, round_, block_id, parent.timestamp_usecs + 1), parent)
    signature = CONSENSUS_KEY_OF[author].sign(compute_signing_bytes(VOTE_DOMAIN, CHAIN_ID, data))
    message = VoteMsg(Vote(data, author, signature), state.get_sync_info())
    return encode_envelope(CHANNEL_CONSENSUS, encode_message(message)), data, signature


def evidence_in(runtime: Runtime) -> list[SignedTransaction]:
    """Return the evidence transactions waiting in a node's mempool."""
    return [entry.transaction for entry in runtime.mempool.by_hash.values()
            if getattr(entry.transaction.raw_txn.payload.value, "function", None) == "submit_equivocation_evidence"]


def read_chain(store: MemoryStore):  # noqa: ANN201
    """Return a read context over a store's latest committed state."""
    view = StoreStateView(store, store.get_latest_version())
    return Context(BlockState(view), DIEM_ROOT, UnmeteredGas(), 0)


@pytest.fixture()
def cluster() -> StakingCluster:
    built = StakingCluster()
    built.start()
    return built


def test_two_conflicting_votes_from_a_peer_put_one_signed_evidence_transaction_in_the_mempool(cluster):
    observer, equivocator = ADDRESSES[0], ADDRESSES[3]
    runtime = cluster.get_runtime(observer)
    first_bytes, first, first_sig = signed_vote_bytes(runtime, equivocator, b"\xaa" * 32)
    second_bytes, second, second_sig = signed_vote_bytes(runtime, equivocator, b"\xbb" * 32)
    runtime.process_peer_data(equivocator, first_bytes)
    assert evidence_in(runtime) == []  # one vote is no evidence
    outbound = runtime.process_peer_data(equivocator, second_bytes)
    [txn] = evidence_in(runtime)
    raw = txn.raw_txn
    assert raw.sender == AccountAddress(observer) and txn.is_signature_valid()
    assert raw.payload == compose_equivocation_evidence(ev.EQUIVOCATION_KIND_VOTE, equivocator, pack(to_plain(first)),
                                                        first_sig, pack(to_plain(second)), second_sig)
    assert (raw.gas_unit_price, raw.gas_currency_code, raw.chain_id.value) == (EVIDENCE_GAS_UNIT_PRICE, "XUS", CHAIN_ID)
    assert raw.expiration_timestamp_secs > cluster.clock.now_usecs // 1_000_000
    assert raw.expiration_timestamp_secs <= cluster.clock.now_usecs // 1_000_000 + EVIDENCE_EXPIRATION_SECS
    # gossip spreads it like any submitted transaction
    shared = [decode_envelope(action.data) for action in outbound if isinstance(action, BroadcastData)]
    assert (CHANNEL_TRANSACTION, txn.to_bcs()) in shared
    third_bytes, _, _ = signed_vote_bytes(runtime, equivocator, b"\xcc" * 32)
    for again in (second_bytes, third_bytes):
        runtime.process_peer_data(equivocator, again)
    assert evidence_in(runtime) == [txn]
    assert runtime.evidence.submitted_count == 1


def test_the_node_submits_one_transaction_per_equivocation_for_its_lifetime_and_numbers_them_in_sequence(cluster):
    runtime = cluster.get_runtime(ADDRESSES[0])
    block = BlockInfo(1, 5, b"\xaa" * 32, 10)
    other = BlockInfo(1, 5, b"\xbb" * 32, 10)
    parent = BlockInfo(1, 4, b"\x00" * 32, 9)
    report = ev.ReportEquivocation(ev.EQUIVOCATION_KIND_VOTE, ADDRESSES[3], 1, 5, VoteData(block, parent), b"s" * 64,
                                   VoteData(other, parent), b"t" * 64)
    before = len(runtime.mempool)
    sequence_number = runtime.get_next_sequence_number(ADDRESSES[0])
    for _ in range(2):
        runtime.apply(report)  # e.g. the core reported it again after a restart or in a later step
        runtime.process(ev.Start())
    assert len(runtime.mempool) == before + 1
    later = ev.ReportEquivocation(ev.EQUIVOCATION_KIND_VOTE, ADDRESSES[3], 1, 6, report.first, report.first_signature,
                                  report.second, report.second_signature)
    runtime.apply(later)
    runtime.process(ev.Start())
    numbers = sorted(txn.raw_txn.sequence_number for txn in evidence_in(runtime))
    assert numbers == [sequence_number, sequence_number + 1]  # the second follows the one already waiting


def test_without_an_account_key_the_node_only_logs():
    cluster = StakingCluster(with_account=False)
    cluster.start()
    observer, equivocator = ADDRESSES[0], ADDRESSES[2]
    runtime = cluster.get_runtime(observer)
    for block_id in (b"\xaa" * 32, b"\xbb" * 32):
        data, _, _ = signed_vote_bytes(runtime, equivocator, block_id)
        runtime.process_peer_data(equivocator, data)
    assert evidence_in(runtime) == [] and runtime.evidence.submitted_count == 0


def test_a_failing_submission_is_counted_and_never_stops_the_node(cluster):
    runtime = cluster.get_runtime(ADDRESSES[0])

    def broken(_txn):  # noqa: ANN001, ANN202
        raise RuntimeError("disk full")

    runtime.evidence.submit_signed = broken  # type: ignore[assignment]
    equivocator = ADDRESSES[1]
    for block_id in (b"\xaa" * 32, b"\xbb" * 32):
        data, _, _ = signed_vote_bytes(runtime, equivocator, block_id)
        runtime.process_peer_data(equivocator, data)
    assert runtime.evidence.failed_count == 1 and evidence_in(runtime) == []


def test_the_evidence_commits_and_slashes_the_equivocator_burning_its_stake(cluster):
    observer, equivocator = ADDRESSES[0], ADDRESSES[3]
    ctx = read_chain(cluster.nodes[observer].store)
    supply_before = currency.get_currency_info(ctx, XUS).total_value
    assert staking.get_pool(ctx, equivocator).active.value == STAKE_MICRO
    runtime = cluster.get_runtime(observer)
    for block_id in (b"\xaa" * 32, b"\xbb" * 32):
        data, _, _ = signed_vote_bytes(runtime, equivocator, block_id)
        cluster.dispatch(cluster.nodes[observer], runtime.process_peer_data(equivocator, data))
    [txn] = evidence_in(runtime)
    assert cluster.run_until(lambda: cluster.is_committed_everywhere(txn.hash()))

    store = cluster.nodes[observer].store
    record = store.get_account_transaction(observer, txn.raw_txn.sequence_number)
    events = [decode_event(ContractEvent.from_bcs(e.event)) for e in store.get_events_by_version(record.version)]
    slashed = STAKE_MICRO * STAKING_WITHOUT_PERIODIC_EPOCHS.slash_bps // 10_000
    assert ("Evidence::SlashEvent", {"validator": equivocator, "amount": slashed, "epoch": 1}) in events
    assert ("Evidence::EquivocationEvidenceEvent", {"validator": equivocator, "kind": 0, "epoch": 1,
                                                    "round": record_round(events), "submitter": observer}) in events
    ctx = read_chain(store)
    pool = staking.get_pool(ctx, equivocator)
    assert pool.tombstoned and pool.active.value == STAKE_MICRO - slashed
    assert currency.get_currency_info(ctx, XUS).total_value == supply_before - slashed


def record_round(events) -> int:  # noqa: ANN001
    return next(fields["round"] for name, fields in events if name == "Evidence::EquivocationEvidenceEvent")



def test_a_double_proposal_seen_by_one_node_commits_as_evidence_and_slashes_the_leader(cluster):
    leader_node = next(node for node in cluster.nodes.values() if get_sent_proposals(node))
    [proposal] = get_sent_proposals(leader_node)
    leader = proposal.block.author
    data = replace(proposal.block.data, payload=(b"equivocation",))
    block_id = compute_block_id(data)
    signature = CONSENSUS_KEY_OF[leader].sign(compute_signing_bytes(PROPOSAL_DOMAIN, CHAIN_ID, block_id))
    observer = next(address for address in ADDRESSES if address != leader)
    conflicting = encode_envelope(CHANNEL_CONSENSUS, encode_message(ProposalMsg(Block(data, block_id, signature),
                                                                                 proposal.sync_info)))
    runtime = cluster.get_runtime(observer)
    cluster.dispatch(cluster.nodes[observer], runtime.process_peer_data(leader, conflicting))
    assert evidence_in(runtime) == []  # the genuine proposal is still on its way
    assert cluster.run_until(lambda: len(evidence_in(runtime)) == 1)
    [txn] = evidence_in(runtime)
    assert cluster.run_until(lambda: cluster.is_committed_everywhere(txn.hash()))
    store = cluster.nodes[observer].store
    record = store.get_account_transaction(observer, txn.raw_txn.sequence_number)
    events = dict(decode_event(ContractEvent.from_bcs(e.event)) for e in store.get_events_by_version(record.version))
    assert events["Evidence::EquivocationEvidenceEvent"] == {"validator": leader, "kind": 1, "epoch": 1, "round": 1,
                                                             "submitter": observer}
    assert staking.get_pool(read_chain(store), leader).tombstoned


def make_conflicting_proposals(proposal: ProposalMsg, transactions: int) -> list[tuple[Block, bytes]]:
    """Return two blocks of proposal's round by its leader, each with transactions payload entries, signed."""
    leader = proposal.block.author
    blocks = []
    for tag in (b"a", b"b"):
        payload = tuple(tag + b"%05d" % i * 40 for i in range(transactions))  # 240 bytes each, 120 KB per block
        data = replace(proposal.block.data, payload=payload)
        block_id = compute_block_id(data)
        signature = CONSENSUS_KEY_OF[leader].sign(compute_signing_bytes(PROPOSAL_DOMAIN, CHAIN_ID, block_id))
        block = Block(data, block_id, signature)
        blocks.append((block, encode_envelope(CHANNEL_CONSENSUS, encode_message(ProposalMsg(block, proposal.sync_info)))))
    return blocks


def test_a_double_proposal_of_two_full_blocks_fits_one_transaction_commits_and_slashes_the_leader(cluster):
    leader_node = next(node for node in cluster.nodes.values() if get_sent_proposals(node))
    [proposal] = get_sent_proposals(leader_node)
    leader = proposal.block.author
    observer = next(address for address in ADDRESSES if address != leader)
    runtime = cluster.get_runtime(observer)
    supply_before = currency.get_currency_info(read_chain(cluster.nodes[observer].store), XUS).total_value
    (first, first_bytes), (second, second_bytes) = make_conflicting_proposals(proposal, 500)
    assert len(first_bytes) > 100_000  # far beyond what a transaction can carry whole
    for data in (first_bytes, second_bytes):
        cluster.dispatch(cluster.nodes[observer], runtime.process_peer_data(leader, data))
    [txn] = evidence_in(runtime)
    # The evidence carries both headers (QC and payload as digests) and their signatures: a few hundred bytes.
    assert txn.raw_txn.payload == compose_equivocation_evidence(
        ev.EQUIVOCATION_KIND_PROPOSAL, leader, pack(to_plain(compute_block_header(first.data))), first.signature,
        pack(to_plain(compute_block_header(second.data))), second.signature)
    assert len(txn.to_bcs()) < MAX_TRANSACTION_SIZE_BYTES // 4
    assert cluster.run_until(lambda: cluster.is_committed_everywhere(txn.hash()))
    store = cluster.nodes[observer].store
    record = store.get_account_transaction(observer, txn.raw_txn.sequence_number)
    events = dict(decode_event(ContractEvent.from_bcs(e.event)) for e in store.get_events_by_version(record.version))
    assert events["Evidence::EquivocationEvidenceEvent"] == {"validator": leader, "kind": 1, "epoch": 1,
                                                             "round": proposal.block.round, "submitter": observer}
    slashed = STAKE_MICRO * STAKING_WITHOUT_PERIODIC_EPOCHS.slash_bps // 10_000
    ctx = read_chain(store)
    pool = staking.get_pool(ctx, leader)
    assert pool.tombstoned and pool.active.value == STAKE_MICRO - slashed
    assert currency.get_currency_info(ctx, XUS).total_value == supply_before - slashed


def test_evidence_that_would_not_fit_a_transaction_is_logged_and_counted_never_submitted(cluster):
    # Headers and votes are of constant size; only a malformed report could be too large, and the guard catches it.
    runtime = cluster.get_runtime(ADDRESSES[0])
    submitted: list = []
    runtime.evidence.submit_signed = submitted.append  # type: ignore[assignment]
    parent = BlockInfo(1, 2, b"\x00" * 32, 9)
    first = VoteData(BlockInfo(1, 3, b"a" * 3_000, 10), parent)
    second = VoteData(BlockInfo(1, 3, b"b" * 3_000, 10), parent)
    runtime.apply(ev.ReportEquivocation(ev.EQUIVOCATION_KIND_VOTE, ADDRESSES[2], 1, 3, first, b"s" * 64,
                                        second, b"t" * 64))
    runtime.process(ev.Start())
    assert (runtime.evidence.failed_count, runtime.evidence.submitted_count, submitted) == (1, 0, [])
