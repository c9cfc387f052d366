"""[EPOCH-6] Consensus key rotation: a validator signs with the key its epoch's set lists, or not at all."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from consensus import events as ev
from consensus.core import make_genesis_epoch_state, make_initial_state
from consensus.keyring import add_signers, get_held_public_keys, is_key_missing
from consensus.state import CoreConfig
from consensus.types import CommitVoteMsg, EpochState, TimeoutMsg, VoteMsg
from consensus.verify import Rejection, VerifyContext, get_message_epoch, verify_message
from primitives.certified.signatures import InsecureHashScheme, InsecureHashSigner
from primitives.certified.validators import ValidatorInfo, ValidatorSet
from primitives.hashing import sha3_256
from tests.consensus.harness import CHAIN_ID, Cluster, Node, make_address, make_config, make_public_key
from tests.consensus.test_scenarios import assert_agreement

ROTATING = 3  # the validator whose consensus key changes at the boundary
NEW_KEY = sha3_256(b"consensus-test-key", b"rotated")


def make_rotated_set() -> ValidatorSet:
    """The next epoch's set: same members and powers, validator ROTATING under NEW_KEY."""
    return ValidatorSet.create([
        ValidatorInfo(make_address(i), NEW_KEY if i == ROTATING else make_public_key(i), make_public_key(i), 1)
        for i in range(4)
    ])


def make_ring_config(index: int) -> CoreConfig:
    """The rotating validator's config holding both its current and its next key."""
    config = make_config(index)
    return CoreConfig(config.author, config.signer, config.scheme, config.chain_id, signers=(InsecureHashSigner(NEW_KEY),))


class RecordingCluster(Cluster):
    """The scenario cluster, keeping every message each node sent."""

    def __init__(self, ring_for_rotating: bool) -> None:
        super().__init__([1, 1, 1, 1])
        self.sent: dict[int, list[object]] = {index: [] for index in range(4)}
        if ring_for_rotating:
            self.nodes[ROTATING] = Node(ROTATING, make_initial_state(make_ring_config(ROTATING), self.epoch_state))

    def _carry_out(self, node: Node, effect: ev.Effect) -> None:
        if isinstance(effect, (ev.Send, ev.Broadcast)):
            self.sent[node.index].append(effect.message)
        super()._carry_out(node, effect)

    def get_signed(self, index: int, epoch: int) -> list[object]:
        return [message for message in self.sent[index] if get_message_epoch(message) == epoch]

    def rotate_at_next_boundary(self) -> None:
        self.start()
        self.run(max_messages=100)
        self.reconfigure_next = make_rotated_set()


def assert_all_verify(messages: list[object], epoch_state: EpochState) -> None:
    """Every message verifies as the rotating validator's under the given epoch's set."""
    context = VerifyContext(epoch_state, InsecureHashScheme(), CHAIN_ID)
    for message in messages:
        verified = verify_message(message, make_address(ROTATING), context)  # type: ignore[arg-type]
        assert not isinstance(verified, Rejection), (type(message).__name__, verified)


def test_with_both_keys_held_the_validator_signs_valid_messages_from_the_first_round_of_the_new_epoch():
    cluster = RecordingCluster(ring_for_rotating=True)
    cluster.rotate_at_next_boundary()
    cluster.run(max_messages=2500)  # no timer fires: every round must succeed by votes alone
    rotating = cluster.nodes[ROTATING]
    epoch_two = rotating.state.epoch_state
    assert epoch_two.epoch == 2 and epoch_two.validators == make_rotated_set()
    assert rotating.state.is_validator() and rotating.state.get_signer().get_public_key() == NEW_KEY
    signed = cluster.get_signed(ROTATING, 2)
    assert any(isinstance(message, VoteMsg) and message.vote.round == 1 for message in signed)
    assert any(isinstance(message, CommitVoteMsg) for message in signed)
    assert_all_verify(signed, epoch_two)
    # No missed round: the new epoch ran on QCs only, including rounds the rotating validator led.
    epoch_two_blocks = [block for block in cluster.nodes[0].committed if block.epoch == 2]
    assert len(epoch_two_blocks) > 10
    assert [block.round for block in epoch_two_blocks] == list(range(1, len(epoch_two_blocks) + 1))
    assert any(block.author == make_address(ROTATING) for block in epoch_two_blocks)
    assert all(node.state.highest_tc is None for node in cluster.nodes)
    assert_agreement(cluster)


def test_with_only_the_old_key_the_validator_signs_nothing_in_the_new_epoch_and_the_others_go_on():
    cluster = RecordingCluster(ring_for_rotating=False)
    cluster.rotate_at_next_boundary()
    for _ in range(12):
        cluster.run(max_messages=1500)
        cluster.fire_timeouts()
    rotating = cluster.nodes[ROTATING]
    assert rotating.state.epoch_state.epoch == 2
    assert not rotating.state.is_validator() and is_key_missing(rotating.state)
    assert cluster.get_signed(ROTATING, 1)  # it did sign in epoch 1, with the key that epoch lists
    assert cluster.get_signed(ROTATING, 2) == []  # and nothing at all in epoch 2 (nothing invalid either)
    assert rotating.timer is None or rotating.timer[0] == 1  # no round timer armed in epoch 2
    epoch_two_blocks = [block for block in cluster.nodes[0].committed if block.epoch == 2]
    assert len(epoch_two_blocks) > 3 and all(block.author != make_address(ROTATING) for block in epoch_two_blocks)
    assert any(block.epoch == 2 for block in rotating.committed)  # it still follows the chain
    assert_agreement(cluster)


def test_a_key_added_mid_epoch_makes_the_validator_sign_again_from_its_current_round():
    cluster = RecordingCluster(ring_for_rotating=False)
    cluster.rotate_at_next_boundary()
    for _ in range(4):
        cluster.run(max_messages=1500)
        cluster.fire_timeouts()
    rotating = cluster.nodes[ROTATING]
    assert rotating.state.epoch_state.epoch == 2 and not rotating.state.is_validator()
    before = rotating.state
    state, effects = add_signers(before, [InsecureHashSigner(NEW_KEY)])
    assert before.config.signers == () and not before.is_validator()  # the input is unchanged
    assert state.is_validator() and get_held_public_keys(state) == (make_public_key(ROTATING), NEW_KEY)
    assert any(isinstance(effect, ev.ScheduleTimeout) and (effect.epoch, effect.round) == (2, state.current_round)
               for effect in effects)  # the round it is in now has a timer: it will time out or vote
    rotating.state = state
    for effect in effects:
        cluster._carry_out(rotating, effect)
    assert add_signers(state, [InsecureHashSigner(NEW_KEY)]) == (state, ())  # a held key changes nothing
    for _ in range(4):
        cluster.run(max_messages=1500)
        cluster.fire_timeouts()
    signed = cluster.get_signed(ROTATING, 2)
    assert any(isinstance(message, VoteMsg) for message in signed)
    assert_all_verify(signed, rotating.state.epoch_state)
    assert_agreement(cluster)


def test_a_validator_behind_the_boundary_follows_the_epoch_proof_and_signs_with_its_next_key():
    cluster = RecordingCluster(ring_for_rotating=True)
    cluster.rotate_at_next_boundary()
    cluster.blocked = {ROTATING}
    for _ in range(12):
        cluster.run(max_messages=1500)
        cluster.fire_timeouts()
    rotating = cluster.nodes[ROTATING]
    assert cluster.nodes[0].state.epoch_state.epoch == 2 and rotating.state.epoch_state.epoch == 1
    cluster.blocked = set()
    for _ in range(4):
        cluster.fire_timeouts()
        cluster.run(max_messages=1500)
    assert rotating.state.epoch_state.epoch == 2 and rotating.state.is_validator()
    assert [effect.epoch_state.epoch for effect in rotating.new_epochs] == [2]
    assert len(rotating.committed) < len(cluster.nodes[0].committed)  # it jumped by the proof (no epoch-1 tail)
    signed = cluster.get_signed(ROTATING, 2)
    assert any(isinstance(message, (VoteMsg, TimeoutMsg)) for message in signed)
    assert_all_verify(signed, rotating.state.epoch_state)


KEYS = [sha3_256(b"ring-key", bytes([index])) for index in range(5)]


@given(held=st.lists(st.sampled_from(KEYS), min_size=1, max_size=5), listed=st.sampled_from(KEYS),
       is_member=st.booleans())
def test_the_node_is_a_validator_iff_the_set_lists_it_with_a_key_it_holds(held, listed, is_member):
    author = make_address(0)
    members = [ValidatorInfo(make_address(1), KEYS[0], KEYS[0], 1)]
    if is_member:
        members.append(ValidatorInfo(author, listed, listed, 1))
    epoch_state = make_genesis_epoch_state(ValidatorSet.create(members))
    signers = [InsecureHashSigner(key) for key in held]
    config = CoreConfig(author, signers[0], InsecureHashScheme(), CHAIN_ID, signers=tuple(signers[1:]))
    state = make_initial_state(config, epoch_state)
    assert state.is_validator() == (is_member and listed in held)
    assert is_key_missing(state) == (is_member and listed not in held)
    if state.is_validator():
        assert state.get_signing_context().signer.get_public_key() == listed
    assert get_held_public_keys(state) == tuple(dict.fromkeys(held))
