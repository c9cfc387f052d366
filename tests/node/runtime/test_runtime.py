"""Runtime scenarios: four runtimes in one process over a synchronous fake network."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consensus import events as ev
from contracts.outputs import BlockOutput
from node.runtime.application import ContractsApplication
from node.runtime.recovery import RECOVERED_BLOCKS_MAX
from node.runtime.submit import SubmitStatus
from node.storage import MemoryStore
from tests.node.runtime.harness import (
    CHAIN_ID,
    Cluster,
    crash_before_effect,
    get_ledger_head,
    get_sent_proposals,
    get_sent_votes,
    is_committed,
    make_equivocation,
    make_transfer,
)


def test_transactions_submitted_to_any_node_commit_on_all() -> None:
    # Pre-state: four validators at genesis.
    cluster = Cluster()
    cluster.start()
    addresses = list(cluster.nodes)
    # Action: the dealer's next four payments, each submitted to a different validator.
    results = [cluster.submit(address, make_transfer(sequence)) for sequence, address in enumerate(addresses)]
    assert all(result.status == SubmitStatus.ACCEPTED for result in results)
    # Post-state: every payment is committed on every node, and the ledgers are identical.
    assert cluster.run_until(lambda: all(cluster.is_committed_everywhere(r.txn_hash) for r in results))
    heads = {get_ledger_head(node.store) for node in cluster.nodes.values()}
    cluster.run_until(lambda: len({get_ledger_head(n.store) for n in cluster.nodes.values()}) == 1)
    assert len({get_ledger_head(node.store) for node in cluster.nodes.values()}) == 1, heads
    for node in cluster.nodes.values():
        record = node.store.get_account_transaction(make_transfer(0).sender.value, 0)
        assert record is not None and b"executed" in record.info


def test_submit_refuses_bad_transactions_with_a_status() -> None:
    cluster = Cluster()
    cluster.start()
    runtime = cluster.get_runtime(next(iter(cluster.nodes)))
    assert runtime.submit_transaction(b"\x01\x02").status == SubmitStatus.MALFORMED
    tampered = bytearray(make_transfer(0).to_bcs())
    tampered[-1] ^= 1
    assert runtime.submit_transaction(bytes(tampered)).status == SubmitStatus.INVALID_SIGNATURE
    accepted = runtime.submit_transaction(make_transfer(0).to_bcs())
    assert accepted.status == SubmitStatus.ACCEPTED
    assert runtime.submit_transaction(make_transfer(0, amount=2).to_bcs()).status == SubmitStatus.MEMPOOL_REJECTED
    # Nothing was shared for the refused ones: exactly one broadcast of the accepted payment.
    assert len(runtime.take_outbound()) == 1


class CountingStore(MemoryStore):
    """A memory store that counts commit batches and the synced writes under them."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.commit_batches = 0
        self.synced_writes = 0
        backend_write = self.backend.write

        def write(puts, deletes, sync):  # noqa: ANN001
            self.synced_writes += int(sync)
            backend_write(puts, deletes, sync)

        self.backend.write = write  # type: ignore[method-assign]

    def commit_blocks(self, commits, extra_puts=()) -> None:  # noqa: ANN001
        self.commit_batches += 1
        before = self.synced_writes
        super().commit_blocks(commits, extra_puts)
        assert self.synced_writes == before + 1, "a commit is exactly one synced write"


def test_each_commit_effect_is_one_synced_batch() -> None:
    cluster = Cluster(store_factory=lambda genesis_hash: CountingStore(chain_id=CHAIN_ID, genesis_hash=genesis_hash))
    commit_effects: dict[bytes, int] = {}
    for address, node in cluster.nodes.items():
        node.store.commit_batches = 0  # genesis was written before the runtimes existed
        commit_effects[address] = 0

        def hook(effect, address=address) -> None:  # noqa: ANN001
            if isinstance(effect, ev.CommitBlocks):
                commit_effects[address] += 1

        cluster.effect_hooks[address] = hook
    cluster.start()
    first = next(iter(cluster.nodes))
    results = [cluster.submit(first, make_transfer(sequence)) for sequence in range(3)]
    assert cluster.run_until(lambda: all(cluster.is_committed_everywhere(r.txn_hash) for r in results))
    for address, node in cluster.nodes.items():
        assert node.store.commit_batches == commit_effects[address] > 0


def run_crash_scenario(victim_index: int, effect_index: int) -> None:
    """Crash one validator before its effect_index-th effect, restart it from its store, tempt it to equivocate."""
    cluster = Cluster()
    victim = list(cluster.nodes)[victim_index]
    cluster.effect_hooks[victim] = crash_before_effect(effect_index)
    cluster.start()
    first = list(cluster.nodes)[(victim_index + 1) % 4]
    result = cluster.submit(first, make_transfer(0))
    # The victim dies before its effect_index-th effect; after a while it restarts from its store only.
    cluster.run_until(lambda: victim in cluster.down, deliveries_max=400)
    cluster.run_until(lambda: False, deliveries_max=50)
    assert victim in cluster.down, f"no crash before effect {effect_index}"
    cluster.start(victim)
    # A Byzantine leader now offers the restarted victim a conflicting block for every round it saw.
    runtime = cluster.nodes[victim].runtime
    for proposal in (p for node in cluster.nodes.values() for p in get_sent_proposals(node)):
        if runtime is not None and proposal.block.author != victim:
            cluster.dispatch(cluster.nodes[victim], runtime.process_peer_data(
                proposal.block.author, make_equivocation(cluster, proposal)))
    assert cluster.run_until(lambda: cluster.is_committed_everywhere(result.txn_hash)), effect_index
    votes_by_round: dict[tuple[int, int], object] = {}
    for vote in get_sent_votes(cluster.nodes[victim]):
        previous = votes_by_round.setdefault((vote.epoch, vote.round), vote.vote_data)
        assert previous == vote.vote_data, f"conflicting vote after a crash before effect {effect_index}"
    # And the ledgers never diverge: every node holds the same transaction hash at every version.
    stores = [node.store for node in cluster.nodes.values()]
    common = min(store.get_latest_version() for store in stores)
    for version in range(common + 1):
        assert len({store.get_transaction(version).transaction for store in stores}) == 1, version


def test_crash_at_every_effect_boundary_never_double_votes() -> None:
    for effect_index in range(0, 40):
        run_crash_scenario(1, effect_index)


@settings(max_examples=12, deadline=None)
@given(victim_index=st.integers(0, 3), effect_index=st.integers(0, 120))
def test_any_crash_point_of_any_validator_is_safe(victim_index: int, effect_index: int) -> None:
    run_crash_scenario(victim_index, effect_index)


def test_lagging_node_catches_up_with_identical_roots() -> None:
    cluster = Cluster()
    addresses = list(cluster.nodes)
    laggard = addresses[3]
    cluster.start()
    cluster.crash(laggard)
    results = [cluster.submit(addresses[0], make_transfer(sequence)) for sequence in range(5)]
    assert cluster.run_until(lambda: all(cluster.is_committed_everywhere(r.txn_hash) for r in results))
    # Many more (empty) blocks commit while it is down, so the others prune what it lacks.
    target = cluster.nodes[addresses[0]].store.get_latest_version() + 20
    assert cluster.run_until(lambda: cluster.nodes[addresses[0]].store.get_latest_version() >= target)
    cluster.start(laggard)
    assert cluster.run_until(lambda: all(is_committed(cluster.nodes[laggard].store, r.txn_hash) for r in results))
    lagging = cluster.get_runtime(laggard)
    assert lagging.catchup.last_status == 0
    live = [node for address, node in cluster.nodes.items() if address != laggard]
    version = get_ledger_head(cluster.nodes[laggard].store)[0]
    assert cluster.run_until(lambda: all(get_ledger_head(n.store)[0] >= version for n in live))
    for node in live:
        record = node.store.get_ledger_info(version)
        assert record is not None
    assert {get_ledger_head(cluster.nodes[laggard].store)} <= {
        _get_head_at(node.store, version) for node in live}


def _get_head_at(store: MemoryStore, version: int) -> tuple[int, bytes, bytes]:
    from primitives.certified.ledger_info import decode_ledger_info

    info = decode_ledger_info(store.get_ledger_info(version).ledger_info).ledger_info
    return info.version, info.state_root, info.accumulator_root


@pytest.mark.parametrize("victim_index", [0, 2])
def test_restarted_node_keeps_committing(victim_index: int) -> None:
    cluster = Cluster()
    victim = list(cluster.nodes)[victim_index]
    cluster.start()
    first = cluster.submit(list(cluster.nodes)[1], make_transfer(0))
    assert cluster.run_until(lambda: cluster.is_committed_everywhere(first.txn_hash))
    cluster.crash(victim)
    cluster.start(victim)
    second = cluster.submit(victim, make_transfer(1))
    assert second.status == SubmitStatus.ACCEPTED
    assert cluster.run_until(lambda: cluster.is_committed_everywhere(second.txn_hash))


def test_a_restart_restores_the_leader_reputation_history_from_its_records() -> None:
    # Pre-state: four validators with reputation ([ELECT-2]) ran for more rounds than a restart reloads blocks.
    cluster = Cluster(reputation=True)
    cluster.start()
    victim = list(cluster.nodes)[1]
    assert cluster.run_until(lambda: cluster.get_runtime(victim).state.tree.get_root().round > 3 * RECOVERED_BLOCKS_MAX)
    runtime = cluster.get_runtime(victim)
    root_round = runtime.state.tree.get_root().round
    before = [entry for entry in runtime.state.history if entry.round <= root_round]
    # Action: crash and restart from the store only.
    cluster.crash(victim)
    cluster.start(victim)
    # Post-state: [ELECT-3] the history of committed blocks is the same, read back from the compact records.
    after = [entry for entry in cluster.get_runtime(victim).state.history if entry.round <= root_round]
    assert len(before) > RECOVERED_BLOCKS_MAX and after == before


def test_idle_leader_waits_then_proposes_a_new_transaction_at_once() -> None:
    from consensus.types import ProposalMsg, decode_message
    from node.runtime.wire import CHANNEL_CONSENSUS, BroadcastData, decode_envelope

    # Pre-state: an idle chain whose leaders defer empty proposals.
    cluster = Cluster(empty_block_delay_ms=200)
    cluster.start()
    assert cluster.run_until(lambda: not cluster.queue)
    waiting = [node for node in cluster.nodes.values() if node.runtime.deferred_payload is not None]
    assert len(waiting) == 1
    leader = waiting[0]
    # Action: a transaction reaches the waiting leader.
    txn = make_transfer(0)
    leader.runtime.submit_transaction(txn.to_bcs())
    outbound = leader.runtime.take_outbound()
    # Post-state: the leader proposed a block holding it in the same call.
    proposals = [decode_message(decode_envelope(action.data)[1]) for action in outbound
                 if isinstance(action, BroadcastData) and decode_envelope(action.data)[0] == CHANNEL_CONSENSUS]
    assert any(isinstance(p, ProposalMsg) and p.block.payload == (txn.to_bcs(),) for p in proposals)
    assert leader.runtime.deferred_payload is None
    # And the idle chain still advances (deferred proposals fire when nothing else happens).
    version = leader.store.get_latest_version()
    cluster.dispatch(leader, outbound)
    assert cluster.run_until(lambda: leader.store.get_latest_version() > version + 3)


def test_persisted_uncommitted_blocks_stay_few_as_the_chain_grows() -> None:
    cluster = Cluster()
    cluster.start()
    # With one validator down, blocks whose votes went to it are never certified: dead forks pile up.
    cluster.crash(list(cluster.nodes)[3])
    store = next(iter(cluster.nodes.values())).store
    assert cluster.run_until(lambda: store.get_latest_version() >= 60)
    # Only the block tree above the committed root stays on disk as pending blocks.
    assert len(store.records.get_pending_blocks()) <= 5


@dataclass(frozen=True, slots=True)
class ReconfiguringOutput(BlockOutput):
    """A block output marked by the test application as re-installing the validator set."""

    reconfigure: bool = False


class ReconfiguringApplication(ContractsApplication):
    """The real application, except that the first block from round RECONFIGURE_ROUND on re-installs the validator set."""

    RECONFIGURE_ROUND = 6

    def __init__(self, validators) -> None:  # noqa: ANN001
        self.validators = validators

    def execute_block(self, state_view, metadata, signed_txns, trees):  # noqa: ANN001, ANN201
        output = super().execute_block(state_view, metadata, signed_txns, trees)
        return ReconfiguringOutput(output.transactions, output.write_set, output.ledger_update,
                                   metadata.round >= self.RECONFIGURE_ROUND)

    def get_next_validator_set(self, output):  # noqa: ANN001, ANN201
        return self.validators if isinstance(output, ReconfiguringOutput) and output.reconfigure else None


def test_epoch_change_then_restart_keeps_committing() -> None:
    cluster = Cluster()
    cluster.application_factory = lambda: ReconfiguringApplication(cluster.validators)
    cluster.start()
    addresses = list(cluster.nodes)
    # Pre-state -> action: the chain runs past the reconfiguration block into epoch 2 (and 3, ...).
    assert cluster.run_until(lambda: all(cluster.get_runtime(a).state.epoch_state.epoch >= 2 for a in addresses))
    first = cluster.submit(addresses[0], make_transfer(0))
    assert cluster.run_until(lambda: cluster.is_committed_everywhere(first.txn_hash))
    # A validator restarted in the new epoch recovers its epoch from the epoch-ending ledger info.
    epoch = cluster.get_runtime(addresses[2]).state.epoch_state.epoch
    cluster.crash(addresses[2])
    cluster.start(addresses[2])
    assert cluster.get_runtime(addresses[2]).state.epoch_state.epoch >= epoch
    second = cluster.submit(addresses[2], make_transfer(1))
    assert cluster.run_until(lambda: cluster.is_committed_everywhere(second.txn_hash))
    stores = [node.store for node in cluster.nodes.values()]
    assert stores[0].get_epoch_ending_ledger_info(1) is not None
    common = min(store.get_latest_version() for store in stores)
    for version in range(common + 1):
        assert len({store.get_transaction(version).transaction for store in stores}) == 1, version


def test_node_down_across_epoch_changes_catches_up() -> None:
    cluster = Cluster()
    cluster.application_factory = lambda: ReconfiguringApplication(cluster.validators)
    addresses = list(cluster.nodes)
    laggard = addresses[1]
    cluster.start()
    cluster.crash(laggard)
    live = [address for address in addresses if address != laggard]
    assert cluster.run_until(lambda: all(cluster.get_runtime(a).state.epoch_state.epoch >= 3 for a in live))
    result = cluster.submit(live[0], make_transfer(0))
    assert cluster.run_until(lambda: cluster.is_committed_everywhere(result.txn_hash))
    cluster.start(laggard)
    assert cluster.run_until(lambda: is_committed(cluster.nodes[laggard].store, result.txn_hash))
    assert cluster.get_runtime(laggard).state.epoch_state.epoch >= 3
    second = cluster.submit(laggard, make_transfer(1))
    assert cluster.run_until(lambda: cluster.is_committed_everywhere(second.txn_hash))
    stores = [node.store for node in cluster.nodes.values()]
    common = min(store.get_latest_version() for store in stores)
    for version in range(common + 1):
        assert len({store.get_transaction(version).transaction for store in stores}) == 1, version


def test_restart_from_leveldb_on_disk(tmp_path) -> None:  # noqa: ANN001
    from node.storage import LevelStore

    paths = iter(str(tmp_path / f"db{index}") for index in range(4))
    cluster = Cluster(store_factory=lambda genesis_hash: LevelStore(next(paths), chain_id=CHAIN_ID,
                                                                    genesis_hash=genesis_hash))
    cluster.start()
    addresses = list(cluster.nodes)
    first = cluster.submit(addresses[0], make_transfer(0))
    assert cluster.run_until(lambda: cluster.is_committed_everywhere(first.txn_hash))
    # The victim dies mid-flight; its database is closed and opened again, as after kill -9.
    victim = cluster.nodes[addresses[1]]
    cluster.crash(victim.address)
    path = victim.store.location
    victim.store.close()
    victim.store = LevelStore(path, chain_id=CHAIN_ID, genesis_hash=cluster.genesis_hash)
    cluster.start(victim.address)
    second = cluster.submit(victim.address, make_transfer(1))
    assert cluster.run_until(lambda: cluster.is_committed_everywhere(second.txn_hash))
    for node in cluster.nodes.values():
        node.store.close()


def test_a_commit_forgets_executed_blocks_of_forks_that_lost() -> None:
    from node.runtime.executor import ExecutedBlock

    cluster = Cluster()
    cluster.start()
    executor = cluster.get_runtime(list(cluster.nodes)[0]).executor

    def make_executed(block_id: bytes, parent_id: bytes) -> ExecutedBlock:
        return ExecutedBlock(block_id, parent_id, 0, (), {}, bytes(32), bytes(32), {}, {})

    old_root = next(iter(executor.root_ids))
    committed = make_executed(b"c" * 32, old_root)
    executor.executed = {
        committed.block_id: committed,
        b"d" * 32: make_executed(b"d" * 32, committed.block_id),  # extends what commits: kept
        b"f" * 32: make_executed(b"f" * 32, old_root),  # a sibling of what commits: its fork lost
        b"g" * 32: make_executed(b"g" * 32, b"f" * 32),  # and its child
    }
    executor.on_committed([committed])
    assert set(executor.executed) == {b"d" * 32}
