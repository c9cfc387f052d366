"""Handler scenarios as stories: 4 in-process cores driven by hand (FIFO delivery, manual timers)."""

from __future__ import annotations

from primitives.certified.ledger_info import check_ledger_info_signatures
from primitives.certified.signatures import InsecureHashScheme
from tests.consensus.harness import CHAIN_ID, Cluster, make_address, make_validators


def assert_agreement(cluster: Cluster) -> None:
    """Committed chains are prefix-consistent, link parent to child, and every certificate verifies."""
    chains = [[block.id for block in node.committed] for node in cluster.nodes]
    longest = max(chains, key=len)
    for chain in chains:
        assert chain == longest[: len(chain)]
    for node in cluster.nodes:
        rounds = [(block.epoch, block.round) for block in node.committed]
        assert rounds == sorted(rounds) and len(set(rounds)) == len(rounds)
        for block, parent in zip(node.committed[1:], node.committed):
            assert block.parent_id == parent.id or block.epoch == parent.epoch + 1
        validators = {1: cluster.validators}
        for effect in node.new_epochs:
            validators[effect.epoch_state.epoch] = effect.epoch_state.validators
        for certificate in node.commit_certs:
            epoch_validators = validators[certificate.ledger_info.epoch]
            assert check_ledger_info_signatures(certificate, epoch_validators, InsecureHashScheme(), CHAIN_ID) is None


def rounds_of(cluster: Cluster) -> list[int]:
    return [node.state.current_round for node in cluster.nodes]


def test_happy_path_commits_every_block_in_order_on_every_node():
    cluster = Cluster([1, 1, 1, 1])
    cluster.start()
    cluster.run(max_messages=1200)
    committed = cluster.get_committed_rounds(0)
    assert len(committed) >= 20 and committed == list(range(1, len(committed) + 1))
    assert_agreement(cluster)
    assert not cluster.rejections


def test_a_cut_off_leader_costs_only_its_own_round_because_votes_are_broadcast():
    # Leaders of rounds 1..9 are nodes 2,2,0,2,2,0,3,3,3 ([ELECT-1]); node 0 is cut off.
    cluster = Cluster([1, 1, 1, 1])
    cluster.blocked = {0}
    cluster.start()
    cluster.run()
    # [VOTE-6] every voter forms QC1 and QC2 itself: all reach round 3, led by the cut-off node 0.
    assert rounds_of(cluster)[1:] == [3, 3, 3] and cluster.nodes[1].state.highest_qc.round == 2
    assert cluster.get_committed_rounds(1) == [1]  # QC2 orders B1 (2-chain); its commit votes certify it
    cluster.fire_timeouts()
    cluster.run()  # TC3 -> node 2 proposes B4 on QC2, naming node 0 as the leader that failed round 3
    state = cluster.nodes[1].state
    b4 = next(block for block in state.tree.blocks.values() if block.round == 4)
    assert b4.quorum_cert.round == 2 and b4.data.failed_authors == ((3, make_address(0)),)  # [ELECT-4]
    assert rounds_of(cluster)[1:] == [6, 6, 6]  # B4 and B5 certified; round 6 is node 0's again
    cluster.fire_timeouts()
    cluster.run()
    assert cluster.get_committed_rounds(1)[:4] == [1, 2, 4, 5]
    assert cluster.get_committed_rounds(0) == []
    assert_agreement(cluster)


def test_cut_off_validator_catches_up_after_healing():
    cluster = Cluster([1, 1, 1, 1])
    cluster.blocked = {3}
    cluster.start()
    for _ in range(8):
        cluster.run()
        cluster.fire_timeouts()
    behind = len(cluster.nodes[3].committed)
    cluster.blocked = set()
    cluster.fire_timeouts()
    cluster.run(max_messages=3000)
    assert len(cluster.nodes[3].committed) > behind + 5
    assert_agreement(cluster)


def test_heavy_validator_offline_halts_without_violation_and_progress_resumes():
    cluster = Cluster([5, 1, 1, 1])  # total 8, quorum 6: node 0 alone holds more than 1/3
    cluster.start()
    cluster.run(max_messages=300)
    before = [len(node.committed) for node in cluster.nodes]
    cluster.blocked = {0}
    cluster.run()
    stalled = [len(node.committed) for node in cluster.nodes]
    highest_qc_round = cluster.nodes[1].state.highest_qc.round
    for _ in range(5):
        cluster.fire_timeouts()
        cluster.run()
    assert [len(node.committed) for node in cluster.nodes] == stalled  # no quorum: no progress
    assert cluster.nodes[1].state.highest_qc.round == highest_qc_round
    assert cluster.nodes[1].state.highest_tc is None or cluster.nodes[1].state.highest_tc.round < highest_qc_round
    cluster.blocked = set()
    cluster.fire_timeouts()
    cluster.run(max_messages=2000)
    assert all(len(node.committed) > stalled[0] for node in cluster.nodes)
    assert before[0] > 0
    assert_agreement(cluster)


def test_light_validators_offline_do_not_stop_a_heavy_quorum():
    cluster = Cluster([5, 1, 1, 1])
    cluster.blocked = {3}  # 7 of 8 power remain, quorum 6
    cluster.start()
    for _ in range(6):
        cluster.run()
        cluster.fire_timeouts()
    assert len(cluster.nodes[0].committed) > 5
    assert_agreement(cluster)


def test_leaders_propose_empty_blocks_so_the_ledger_clock_advances():
    cluster = Cluster([1, 1, 1, 1], payload_size=0)
    cluster.start()
    cluster.run(max_messages=400)
    blocks = cluster.nodes[0].committed
    assert len(blocks) > 10 and all(block.payload == () for block in blocks)
    timestamps = [block.timestamp_usecs for block in blocks]
    assert timestamps == sorted(set(timestamps))


def test_epoch_change_hands_over_to_the_next_validator_set():
    cluster = Cluster([1, 1, 1, 1])
    cluster.start()
    cluster.run(max_messages=100)
    next_set = make_validators([2, 1, 1, 1])
    cluster.reconfigure_next = next_set
    cluster.run(max_messages=1500)
    for node in cluster.nodes:
        assert [effect.epoch_state.epoch for effect in node.new_epochs] == [2]
        assert node.state.epoch_state.validators == next_set
        ending = node.new_epochs[0].ledger_info_with_signatures.ledger_info
        assert ending.next_validator_set == next_set
        assert node.commit_certs[-1].ledger_info.epoch == 2  # the new epoch commits too
        epoch_one = [block for block in node.committed if block.epoch == 1]
        assert epoch_one[-1].id == ending.block_id  # nothing after the reconfiguration block commits
    assert_agreement(cluster)


def test_validator_behind_an_epoch_change_catches_up_with_a_proof():
    cluster = Cluster([1, 1, 1, 1])
    cluster.start()
    cluster.run(max_messages=100)
    cluster.blocked = {3}
    cluster.reconfigure_next = make_validators([1, 2, 1, 1])
    for _ in range(12):
        cluster.run(max_messages=1500)
        cluster.fire_timeouts()
    assert cluster.nodes[0].state.epoch_state.epoch == 2 and cluster.nodes[3].state.epoch_state.epoch == 1
    cluster.blocked = set()
    for _ in range(3):
        cluster.fire_timeouts()
        cluster.run(max_messages=1500)
    assert cluster.nodes[3].state.epoch_state.epoch == 2
    assert len(cluster.nodes[3].committed) < len(cluster.nodes[0].committed)  # it jumped: the runtime syncs state
    assert [effect.epoch_state.epoch for effect in cluster.nodes[3].new_epochs] == [2]
