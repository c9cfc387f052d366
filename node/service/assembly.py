"""Start-up assembly: from a node config to a recovered runtime, its network and its ledger reader (nothing runs)."""

from __future__ import annotations

import os
import time
from collections.abc import Collection
from dataclasses import dataclass

from consensus.election import ReputationConfig
from consensus.pacemaker import PacemakerConfig
from consensus.state import CoreConfig
from node.compliance.index.queries import ComplianceIndex
from node.compliance.index.writes import write_compliance_indexes
from node.config import NodeConfig, PeerConfig
from node.seeds import parse_seed
from node.genesis import GenesisFileError, apply_genesis, build_genesis_commit, load_genesis_file
from node.keys.files import load_passphrase, load_private_key
from node.keys.ring import NodeKeyring
from node.logging import get_logger
from node.mempool import Mempool, MempoolLimits
from node.network import Network, PeerInfo, TransportConfig
from node.network.noise import compute_network_public_key, make_network_key_pair
from node.network.peers import compute_full_node_id
from node.network.transport import compute_network_prologue
from node.rpc.ledger import StoreLedgerReader
from node.runtime.application import ContractsApplication
from node.runtime.commit import IndexWriter, write_leader_history
from node.runtime.config import RuntimeConfig
from node.runtime.evidence import EvidenceAccount
from node.runtime.runtime import Runtime
from node.runtime.wire import is_full_node_message
from node.storage import LevelStore, StoreOpenError
from node.storage.records import BlockCommit
from primitives.certified.signatures import Ed25519Scheme, Ed25519Signer
from primitives.certified.validators import ValidatorInfo, ValidatorSet
from primitives.errors import invariant
from primitives.keys import PrivateKey
from primitives.network_address import parse_network_address

# An idle leader proposes an empty block after this long, so the ledger clock advances slowly when idle.
EMPTY_BLOCK_DELAY_MS = 200
SEED_BYTES = 32
DATABASE_DIRECTORY = "db"
# What every commit's batch writes besides the chain: the compliance indexes and the reputation records.
NODE_INDEX_WRITERS: tuple[IndexWriter, ...] = (write_compliance_indexes, write_leader_history)

log = get_logger("stablechain.node")


class NodeStartError(Exception):
    """The node cannot start: the message says what to fix."""


@dataclass(slots=True)
class NodeParts:
    """What run_node assembles before it starts any task."""

    runtime: Runtime
    network: Network
    ledger: StoreLedgerReader
    store: LevelStore
    index: ComplianceIndex
    network_key: PrivateKey  # the node's identity on the network; the regulator API answers with it too


@dataclass(frozen=True, slots=True)
class NodeKeys:
    """The keys a node loads at start: the key ring (consensus and network keys, next ones), and its account key."""

    consensus_key: PrivateKey
    network_key: PrivateKey
    keyring: NodeKeyring
    account_key: PrivateKey | None


def get_real_clock_usecs() -> int:
    """Return the wall clock in microseconds (proposal timestamps; the core keeps them increasing)."""
    return time.time_ns() // 1_000


def find_own_address(validators: ValidatorSet, consensus_public_keys: Collection[bytes],
                     account_address: bytes | None = None) -> bytes:
    """Return this node's address: the account key's when configured, else the genesis member with a key we hold."""
    holder = next((m.address for m in validators.members if m.consensus_public_key in consensus_public_keys), None)
    if account_address is None:
        if holder is None:
            raise NodeStartError("the consensus key is not in the genesis validator set; check keys.consensus_key_file "
                                 "(a node that joins the set later needs keys.account_key_file)")
        return holder
    if holder is not None and holder != account_address:
        raise NodeStartError(f"the consensus key belongs to validator {holder.hex()}, not to the account key's address "
                             f"{account_address.hex()}; check keys.consensus_key_file and keys.account_key_file")
    return account_address


def make_peers(config: NodeConfig, validators: ValidatorSet, own_address: bytes = b"",
               is_follower: bool = False) -> list[PeerInfo]:
    """Return the validator set's other members at the addresses the set lists for them (on chain), and for a
    follower outside the set the config's seeds too.

    Membership, the pinned network key and the address come from the set; `network.peers` only stands in for
    members whose on-chain config lists no address.
    """
    by_address = {bytes.fromhex(peer.address): peer for peer in config.network.peers}
    peers = []
    for member in validators.members:
        if member.address == own_address:
            continue
        location = get_member_location(member, by_address.get(member.address))
        if location is None:
            log.warning("a validator lists no network address on chain: it cannot be dialled",
                        address=member.address.hex())
            continue
        peers.append(PeerInfo(member.address, compute_network_public_key(member.network_public_key), *location))
    return peers + (make_seed_peers(config, peers) if is_follower else [])


def get_member_location(member: ValidatorInfo, configured: PeerConfig | None) -> tuple[str, int] | None:
    """Return (host, port) where a validator listens: its first on-chain address, else the config's entry."""
    for encoded in member.network_addresses:
        address = parse_network_address(encoded)
        if address is not None:
            return address.host, address.port
    return None if configured is None else (configured.host, configured.port)


def make_seed_peers(config: NodeConfig, known: list[PeerInfo]) -> list[PeerInfo]:
    """Return the config's seeds that are not already among known (by network key)."""
    known_keys = {peer.network_public_key for peer in known}
    seeds = []
    for seed in config.network.seeds:
        parsed = parse_seed(seed)
        invariant(parsed is not None, "seeds are checked when the config is read")
        key = compute_network_public_key(parsed[0])  # type: ignore[index]
        if key not in known_keys:
            known_keys.add(key)
            seeds.append(PeerInfo(compute_full_node_id(key), key, parsed[1].host, parsed[1].port))  # type: ignore[index]
    return seeds


def open_store(config: NodeConfig, commit: BlockCommit, genesis_hash: bytes) -> LevelStore:
    """Open (or create) the database; refuse one of another chain or genesis; write genesis if empty."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        store = LevelStore(str(config.data_dir / DATABASE_DIRECTORY), chain_id=config.chain_id,
                           genesis_hash=genesis_hash)
    except StoreOpenError as error:
        raise NodeStartError(str(error)) from None
    if apply_genesis(store, commit, NODE_INDEX_WRITERS):
        log.info("genesis applied", version=0, genesis_hash=genesis_hash.hex())
    return store


def load_genesis(config: NodeConfig) -> tuple[BlockCommit, bytes, ValidatorSet]:
    """Return the version-0 commit, the genesis hash and the first validator set of the config's genesis file;
    refuse a genesis other than the configured waypoint names."""
    try:
        genesis = load_genesis_file(config.genesis_file)
        if genesis.chain_id != config.chain_id:
            raise NodeStartError(f"chain_id {config.chain_id} differs from the genesis file's {genesis.chain_id}")
        commit, genesis_hash, validators = build_genesis_commit(genesis)
    except GenesisFileError as error:
        raise NodeStartError(str(error)) from None
    if config.waypoint is not None and genesis_hash.hex() != config.waypoint:
        raise NodeStartError(f"{config.genesis_file} has waypoint {genesis_hash.hex()}, not the configured "
                             f"{config.waypoint}: refusing a genesis other than the one the network agreed on "
                             "(compare `stablechain genesis verify` with the other operators)")
    return commit, genesis_hash, validators


def load_node_keys(config: NodeConfig) -> NodeKeys:
    """Load every key the config names ([EPOCH-6]: the next consensus and network keys too, once written)."""
    keys = config.keys
    passphrase = load_passphrase(keys.passphrase_env)
    # A full node holds no consensus key: its core signs with a throwaway key no validator set lists.
    consensus_key = (PrivateKey(os.urandom(SEED_BYTES)) if keys.consensus_key_file is None
                     else load_private_key(keys.consensus_key_file, passphrase))
    network_key = load_private_key(keys.network_key_file, passphrase)
    keyring = NodeKeyring.from_keys_config(keys, consensus_key, network_key, passphrase)
    account_key = load_private_key(keys.account_key_file, passphrase) if keys.account_key_file is not None else None
    return NodeKeys(consensus_key, network_key, keyring, account_key)


def make_runtime_config(config: NodeConfig, keys: NodeKeys, author: bytes) -> RuntimeConfig:
    """Return the runtime's config: the core's, block limits, the key ring, evidence signing and index writers."""
    reputation = ReputationConfig() if config.consensus.leader_reputation else None
    pacemaker = PacemakerConfig(base_timeout_ms=config.consensus.round_timeout_ms, reputation=reputation)
    core = CoreConfig(author, Ed25519Signer(keys.consensus_key), Ed25519Scheme(), config.chain_id, pacemaker=pacemaker)
    # The account key signs the equivocation evidence this node submits; without it, evidence is only logged.
    evidence_account = None if keys.account_key is None else EvidenceAccount.from_key(keys.account_key, author)
    empty_block_delay_ms = min(EMPTY_BLOCK_DELAY_MS, config.consensus.round_timeout_ms // 4)
    return RuntimeConfig(core, block_transactions_max=config.consensus.block_transactions_max,
                         empty_block_delay_ms=empty_block_delay_ms, evidence_account=evidence_account,
                         keyring=keys.keyring, index_writers=NODE_INDEX_WRITERS,
                         fast_sync=config.storage.fast_sync)


def make_network(config: NodeConfig, runtime: Runtime, keys: NodeKeys) -> Network:
    """Return the validator network of the runtime's current epoch (not started)."""
    author = runtime.config.core.author
    current = runtime.state.epoch_state.validators
    # After a network key rotation, a restart uses the key the current set lists.
    key_pair = keys.keyring.get_network_key_pair(current, author) or make_network_key_pair(keys.network_key)
    transport = TransportConfig(author, key_pair, config.network.listen_host, config.network.listen_port,
                                prologue=compute_network_prologue(config.chain_id),
                                max_frame_bytes=config.network.frame_bytes_max,
                                full_node_connections_max=config.network.full_node_connections_max,
                                is_allowed_from_full_node=is_full_node_message)
    return Network(transport, make_peers(config, current, author, is_follower=not current.is_member(author)))


def build_node(config: NodeConfig) -> NodeParts:
    """Load genesis, keys and the database; recover consensus; build the network (nothing started)."""
    commit, genesis_hash, validators = load_genesis(config)
    keys = load_node_keys(config)
    if config.is_full_node():  # named by its network key: it has no validator account
        author = keys.network_key.public_key().address()
    else:
        account_address = keys.account_key.public_key().address() if keys.account_key is not None else None
        author = find_own_address(validators, keys.keyring.get_consensus_public_keys(), account_address)
    store = open_store(config, commit, genesis_hash)
    limits = MempoolLimits(capacity_txns=config.mempool.capacity_total,
                           capacity_per_account_txns=config.mempool.capacity_per_account,
                           sequence_window=config.mempool.sequence_window,
                           expiration_horizon_s=config.mempool.expiration_horizon_s,
                           parked_ttl_s=config.mempool.parked_ttl_s)
    runtime = Runtime(make_runtime_config(config, keys, author), store, ContractsApplication(), Mempool(limits),
                      get_real_clock_usecs)
    network = make_network(config, runtime, keys)
    return NodeParts(runtime, network, StoreLedgerReader(store, config.chain_id), store, ComplianceIndex(store),
                     keys.network_key)
