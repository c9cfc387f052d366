"""Scenarios: a validator rotates its consensus key on chain; the node signs with the new key from the boundary on."""

from __future__ import annotations

from pathlib import Path

import pytest

from consensus.state import CoreConfig
from consensus.types import CommitVoteMsg, EpochState, ProposalMsg, TimeoutMsg, VoteMsg, decode_message
from consensus.verify import Rejection, VerifyContext, verify_message
from contracts.framework import TESTNET_DD
from contracts.framework.staking import StakingParams
from contracts.genesis import DealerConfig, GenesisConfig, ValidatorConfig, build_genesis
from node.genesis import make_genesis_commit, make_genesis_transaction
from node.keys.files import save_private_key
from node.keys.ring import NodeKeyring
from node.mempool import Mempool
from node.runtime.application import ContractsApplication
from node.runtime.config import RuntimeConfig
from node.runtime.runtime import Runtime
from node.runtime.wire import CHANNEL_CONSENSUS, BroadcastData, SendData, decode_envelope
from primitives.certified.ledger_info import compute_genesis_hash
from primitives.certified.signatures import Ed25519Scheme, Ed25519Signer
from primitives.keys import PrivateKey
from primitives.types.names import AccountAddress, ChainId
from primitives.types.transactions import RawTransaction, sign_raw_transaction
from tests.node.runtime.harness import CHAIN_ID, DD_KEY, DR_KEY, EXPIRATION_SECS, TC_KEY, Cluster, Node
from wallet.validator import compose_rotate

STAKE_MICRO = 10_000_000
VALIDATORS = 4
EPOCH_BLOCKS = 12  # short epochs: the rotation applies at the first boundary after it commits
ACCOUNT_KEYS = [PrivateKey.from_seed_material(f"rotation-account-{i}".encode()) for i in range(VALIDATORS)]
CONSENSUS_KEYS = [PrivateKey.from_seed_material(f"rotation-consensus-{i}".encode()) for i in range(VALIDATORS)]
ADDRESSES = [key.public_key().address() for key in ACCOUNT_KEYS]
CONSENSUS_KEY_OF = dict(zip(ADDRESSES, CONSENSUS_KEYS))
ROTATING = ADDRESSES[1]
NEW_KEY = PrivateKey.from_seed_material(b"rotation-next-consensus")
NEW_PUBLIC_KEY = NEW_KEY.public_key().data


def make_genesis():  # noqa: ANN201 - (commit, hash, set)
    """Four staked validators with Ed25519 consensus keys; epochs end every EPOCH_BLOCKS blocks."""
    config = GenesisConfig(
        DR_KEY.public_key().data, TC_KEY.public_key().data, chain_id=CHAIN_ID,
        dealers=(DealerConfig(TESTNET_DD, DD_KEY.public_key().data, initial_balance=10**12),),
        validators=tuple(ValidatorConfig(address, STAKE_MICRO, consensus.public_key().data,
                                         consensus.public_key().data, account.public_key().data, b"v%d" % i)
                         for i, (address, consensus, account) in enumerate(zip(ADDRESSES, CONSENSUS_KEYS, ACCOUNT_KEYS))),
        staking=StakingParams(power_cap_bps=10_000, epoch_blocks=EPOCH_BLOCKS, epoch_duration_us=10**15),
    )
    output = build_genesis(config)
    validators = ContractsApplication().get_next_validator_set(output)
    transaction = make_genesis_transaction(output.write_set, output.events)
    commit, certificate = make_genesis_commit(transaction, output.write_set, output.events, validators)
    return commit, compute_genesis_hash(certificate), validators


class RotationCluster(Cluster):
    """The harness cluster on a staking genesis; the rotating validator's runtime polls a next-key file."""

    def __init__(self, next_key_file: Path) -> None:  # noqa: D107 - the harness on a staking genesis
        self.next_key_file = next_key_file
        super().__init__(keys=list(ACCOUNT_KEYS), genesis=make_genesis())

    def make_runtime(self, node: Node) -> Runtime:
        consensus_key = CONSENSUS_KEY_OF[node.address]
        core = CoreConfig(node.address, Ed25519Signer(consensus_key), Ed25519Scheme(), CHAIN_ID)
        keyring = None
        if node.address == ROTATING:
            keyring = NodeKeyring(consensus_key, node.key, next_consensus_key_file=self.next_key_file)
        return Runtime(RuntimeConfig(core, keyring=keyring), node.store, ContractsApplication(), Mempool(), self.clock)

    def rotate(self) -> None:
        """The operator registers NEW_KEY on chain (StakingScripts::rotate_consensus_key)."""
        raw = RawTransaction(AccountAddress(ROTATING), 0, compose_rotate(NEW_PUBLIC_KEY, consensus=True), 1_000_000, 0,
                             "XUS", EXPIRATION_SECS, ChainId(CHAIN_ID))
        assert self.submit(ROTATING, sign_raw_transaction(ACCOUNT_KEYS[1], raw)).status == 0

    def get_rotated_epoch(self) -> int | None:
        """Return the first epoch (seen by validator 0) whose set lists NEW_KEY for the rotating validator."""
        state = self.get_runtime(ADDRESSES[0]).state
        member = state.epoch_state.validators.get_member(ROTATING)
        return state.epoch_state.epoch if member is not None and member.consensus_public_key == NEW_PUBLIC_KEY else None

    def run_into_rotated_epoch(self, commits_after: int) -> int:
        """Run until the rotated set is in force everywhere and has committed commits_after blocks."""
        assert self.run_until(lambda: self.get_rotated_epoch() is not None, 60_000)
        epoch = self.get_rotated_epoch()
        assert epoch is not None
        observer = self.get_runtime(ADDRESSES[0])
        assert self.run_until(lambda: observer.state.tree.get_root().round >= commits_after
                              and observer.state.epoch_state.epoch == epoch, 60_000)
        return epoch


def get_signed(node: Node, epoch: int) -> list[object]:
    """Return every signed consensus message a node sent in an epoch (proposals, votes, timeouts, commit votes)."""
    signed = []
    for action in node.sent:
        if not isinstance(action, (SendData, BroadcastData)):
            continue
        channel, body = decode_envelope(action.data)
        if channel != CHANNEL_CONSENSUS:
            continue
        message = decode_message(body)
        if isinstance(message, ProposalMsg) and message.block.author == node.address and message.block.epoch == epoch:
            signed.append(message)
        elif isinstance(message, VoteMsg) and message.vote.epoch == epoch:
            signed.append(message)
        elif isinstance(message, TimeoutMsg) and message.timeout.timeout.epoch == epoch:
            signed.append(message)
        elif isinstance(message, CommitVoteMsg) and message.commit_vote.ledger_info.epoch == epoch:
            signed.append(message)
    return signed


def assert_valid_under(messages: list[object], epoch_state: EpochState, sender: bytes) -> None:
    """Every message verifies against the epoch's validator set (its keys)."""
    context = VerifyContext(epoch_state, Ed25519Scheme(), CHAIN_ID)
    for message in messages:
        verified = verify_message(message, sender, context)  # type: ignore[arg-type]
        assert not isinstance(verified, Rejection), (type(message).__name__, verified)


@pytest.fixture()
def next_key_file(tmp_path: Path) -> Path:
    return tmp_path / "next-consensus.key"


def test_a_next_key_written_before_the_rotation_signs_from_the_first_round_of_the_new_epoch(next_key_file):
    cluster = RotationCluster(next_key_file)
    cluster.start()  # the file does not exist yet
    observer = cluster.get_runtime(ADDRESSES[0])
    assert cluster.run_until(lambda: observer.state.tree.get_root().round >= 2)
    save_private_key(next_key_file, NEW_KEY)  # the operator's step 1 (the node reads it at its next commit) ...
    cluster.rotate()  # ... step 2: register it on chain
    epoch = cluster.run_into_rotated_epoch(commits_after=8)
    rotating = cluster.get_runtime(ROTATING)
    assert rotating.state.is_validator() and rotating.state.get_signer().get_public_key() == NEW_PUBLIC_KEY
    assert rotating.key_missing_epochs == []
    signed = get_signed(cluster.nodes[ROTATING], epoch)
    votes = [message for message in signed if isinstance(message, VoteMsg)]
    assert votes and min(vote.vote.round for vote in votes) == 1  # it voted from round 1 of the epoch
    assert any(isinstance(message, CommitVoteMsg) for message in signed)
    assert_valid_under(signed, cluster.get_runtime(ADDRESSES[0]).state.epoch_state, ROTATING)
    # Nobody timed out in the new epoch: no round was lost to the rotating validator.
    assert all(not isinstance(message, TimeoutMsg) for node in cluster.nodes.values() for message in get_signed(node, epoch))


def test_without_the_next_key_the_node_signs_nothing_then_resumes_when_the_file_appears(next_key_file):
    cluster = RotationCluster(next_key_file)
    cluster.start()
    cluster.rotate()
    epoch = cluster.run_into_rotated_epoch(commits_after=4)
    rotating = cluster.get_runtime(ROTATING)
    assert not rotating.state.is_validator()
    assert rotating.key_missing_epochs == [epoch]  # logged once, however many commits it followed
    assert get_signed(cluster.nodes[ROTATING], epoch) == []  # not one (invalid) signature
    # The operator writes the key now: the node picks it up at its next commit, no restart.
    save_private_key(next_key_file, NEW_KEY)
    sent_before = len(cluster.nodes[ROTATING].sent)
    observer = cluster.get_runtime(ADDRESSES[0])
    epoch_state = observer.state.epoch_state
    target = observer.state.tree.get_root().round + 8
    assert cluster.run_until(lambda: observer.state.tree.get_root().round >= target
                             or observer.state.epoch_state.epoch != epoch, 60_000)
    assert rotating.state.is_validator() and rotating.state.get_signer().get_public_key() == NEW_PUBLIC_KEY
    cluster.nodes[ROTATING].sent[:sent_before] = []
    signed = get_signed(cluster.nodes[ROTATING], epoch)
    assert any(isinstance(message, VoteMsg) for message in signed)
    assert_valid_under(signed, epoch_state, ROTATING)


def test_a_node_restarted_after_the_boundary_loads_the_next_key_file_and_signs(next_key_file):
    save_private_key(next_key_file, NEW_KEY)
    cluster = RotationCluster(next_key_file)
    cluster.start()
    cluster.rotate()
    epoch = cluster.run_into_rotated_epoch(commits_after=2)
    cluster.crash(ROTATING)
    sent_before = len(cluster.nodes[ROTATING].sent)
    cluster.start(ROTATING)  # the config still names the old key as keys.consensus_key_file
    rotating = cluster.get_runtime(ROTATING)
    assert rotating.state.epoch_state.epoch == epoch and rotating.state.is_validator()
    observer = cluster.get_runtime(ADDRESSES[0])
    epoch_state = observer.state.epoch_state
    target = observer.state.tree.get_root().round + 4
    assert cluster.run_until(lambda: observer.state.tree.get_root().round >= target
                             or observer.state.epoch_state.epoch != epoch, 60_000)
    cluster.nodes[ROTATING].sent[:sent_before] = []  # keep what the restarted node sent
    signed = get_signed(cluster.nodes[ROTATING], epoch)
    assert any(isinstance(message, (VoteMsg, CommitVoteMsg)) for message in signed)
    assert_valid_under(signed, epoch_state, ROTATING)
    assert rotating.key_missing_epochs == []
