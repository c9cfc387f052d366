"""A scripted Byzantine leader: withholds proposals, then proposes on a stale QC behind a TC."""

from __future__ import annotations

import random

from consensus.election import compute_failed_authors
from consensus.state import CoreState
from consensus.types import Block, ProposalMsg, SyncInfo, SyncInfoMsg, TimeoutCertificate
from primitives.certified.blocks import BlockData, QuorumCertificate, compute_block_id
from primitives.certified.domains import PROPOSAL_DOMAIN, compute_signing_bytes
from tests.sim.cluster import SIM_CHAIN_ID
from tests.sim.config import USECS_PER_TICK

# How often the stale leader keeps its honest proposal to itself (so that the round times out).
WITHHOLD_PROBABILITY = 0.5
# The stale parent is drawn among this many of the newest QCs older than the TC's highest QC.
STALE_CANDIDATES_MAX = 3


class StaleLeader:
    """Twins cannot produce a proposal whose QC is older than the TC it follows: this can.

    The validator runs the unchanged core, but as leader it sometimes withholds its proposal; when
    it later sees a TC for the round before one it leads, it proposes a block on the highest QC
    it knows that is *older* than the TC's highest QC, and shows its true (higher) certificates to
    one peer only. Correct safety rules refuse to vote for the stale block.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.attacked_rounds: set[int] = set()

    def is_withheld(self, message: object) -> bool:
        """Return True when an honest proposal of ours should be dropped.

        A proposal that follows a TC is always dropped: get_attack replaces it with a stale one.
        """
        if type(message) is not ProposalMsg:
            return False
        tc = message.sync_info.highest_timeout_cert  # type: ignore[attr-defined]
        if tc is not None and tc.round + 1 == message.block.round:  # type: ignore[attr-defined]
            return True
        return self.rng.random() < WITHHOLD_PROBABILITY

    def get_leak(self, state: CoreState, addresses: tuple[bytes, ...]) -> tuple[bytes, SyncInfoMsg]:
        """Return one peer and our real certificates, disclosed to that peer alone."""
        peers = [address for address in addresses if address != state.config.author]
        return self.rng.choice(peers), SyncInfoMsg(state.get_sync_info())

    def get_attack(self, state: CoreState, sync_info: SyncInfo | None, tick: int) -> ProposalMsg | None:
        """Return a stale proposal when sync_info shows a TC for the round before one we lead."""
        if sync_info is None or sync_info.highest_timeout_cert is None:
            return None
        tc = sync_info.highest_timeout_cert
        round_ = tc.round + 1
        author = state.config.author
        if round_ in self.attacked_rounds or state.get_leader(round_) != author:
            return None
        stale_qc = get_stale_qc(state, tc, self.rng)
        if stale_qc is None:
            return None
        self.attacked_rounds.add(round_)
        parent = stale_qc.certified_block
        timestamp_usecs = max(tick * USECS_PER_TICK, parent.timestamp_usecs + 1)
        payload = (f"stale:{round_}".encode(),)
        # [ELECT-4] it names the skipped leaders as honest voters compute them, or they would refuse it outright.
        failed_authors = compute_failed_authors(state.get_leader, stale_qc.round, round_)
        data = BlockData(tc.epoch, round_, timestamp_usecs, author, parent.id, stale_qc, payload, failed_authors)
        block_id = compute_block_id(data)
        signature = state.config.signer.sign(compute_signing_bytes(PROPOSAL_DOMAIN, SIM_CHAIN_ID, block_id))
        stale_sync = SyncInfo(stale_qc, None, tc, None)
        return ProposalMsg(Block(data, block_id, signature), stale_sync)


def get_stale_qc(
    state: CoreState, tc: TimeoutCertificate, rng: random.Random
) -> QuorumCertificate | None:
    """Return one of the QCs we know that is strictly older than every QC the TC reports."""
    bound = tc.get_highest_hqc_round()
    candidates = sorted((qc for qc in state.tree.certified.values()
                         if qc.round < bound and qc.epoch == tc.epoch),
                        key=lambda qc: (qc.round, qc.certified_block.id))
    if not candidates:
        return None
    return rng.choice(candidates[-STALE_CANDIDATES_MAX:])
