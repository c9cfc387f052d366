"""A cluster of runtimes in one process: in-memory stores, a synchronous fake network, a fake clock."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from consensus.election import ReputationConfig
from consensus.events import LocalTimeout
from consensus.pacemaker import PacemakerConfig
from consensus.state import CoreConfig
from contracts.framework import TESTNET_DD
from contracts.genesis import DealerConfig, GenesisConfig, ValidatorConfig, build_genesis
from node.genesis import apply_genesis, make_genesis_commit, make_genesis_transaction
from node.mempool import Mempool
from node.runtime.application import ContractsApplication
from node.runtime.config import RuntimeConfig
from node.runtime.runtime import Runtime
from node.runtime.wire import BroadcastData, DeferPayload, Outbound, SendData, SetTimer
from node.storage import BlockCommit, MemoryStore
from node.storage.store import Store
from primitives.bcs import encode_uleb128
from primitives.certified.ledger_info import compute_genesis_hash
from primitives.certified.signatures import InsecureHashScheme, InsecureHashSigner
from primitives.certified.validators import ValidatorInfo, ValidatorSet
from primitives.keys import PrivateKey
from primitives.types.names import AccountAddress, ChainId
from primitives.types.scripts import ScriptFunction
from primitives.types.transactions import RawTransaction, SignedTransaction, TransactionPayload, sign_raw_transaction
from primitives.types.type_tags import ModuleId, currency_type_tag

CHAIN_ID = 2
DR_KEY = PrivateKey.from_seed_material(b"diem-root")
TC_KEY = PrivateKey.from_seed_material(b"treasury-compliance")
DD_KEY = PrivateKey.from_seed_material(b"dealer")
PAYEE_KEY = PrivateKey.from_seed_material(b"payee-dealer")
PAYEE = PAYEE_KEY.public_key().address()
DD_BALANCE = 10**12
START_USECS = 1_700_000_000_000_000
EXPIRATION_SECS = START_USECS // 1_000_000 + 24 * 3600  # within the mempool's expiration horizon
CLOCK_STEP_USECS = 1_000
# The fake network delivers at most this many messages per run_until call.
DELIVERIES_MAX = 20_000


def make_validator_keys(count: int) -> list[PrivateKey]:
    """Return deterministic validator keys."""
    return [PrivateKey.from_seed_material(f"validator-{index}".encode()) for index in range(count)]


def make_genesis(keys: list[PrivateKey]) -> tuple[BlockCommit, bytes, ValidatorSet]:
    """Return the genesis commit, the genesis hash and the validator set for these validators."""
    validators = ValidatorSet.create([
        ValidatorInfo(key.public_key().address(), key.public_key().data, key.public_key().data, 1) for key in keys])
    config = GenesisConfig(
        DR_KEY.public_key().data, TC_KEY.public_key().data, chain_id=CHAIN_ID,
        dealers=(DealerConfig(TESTNET_DD, DD_KEY.public_key().data, initial_balance=DD_BALANCE),
                 DealerConfig(PAYEE, PAYEE_KEY.public_key().data, initial_balance=0)),
        validators=tuple(ValidatorConfig(key.public_key().address(), 1, key.public_key().data,
                                         key.public_key().data, key.public_key().data) for key in keys),
    )
    output = build_genesis(config)
    transaction = make_genesis_transaction(output.write_set, output.events)
    commit, certificate = make_genesis_commit(transaction, output.write_set, output.events, validators)
    return commit, compute_genesis_hash(certificate), validators


def make_transfer(sequence_number: int, amount: int = 1, expiration_secs: int = EXPIRATION_SECS) -> SignedTransaction:
    """Return the dealer's signed XUS payment to the payee (expiring within the fake clock's horizon by default)."""
    args = (PAYEE, amount.to_bytes(8, "little"), encode_uleb128(0), encode_uleb128(0))
    payload = TransactionPayload(ScriptFunction(ModuleId(AccountAddress.CORE_CODE, "PaymentScripts"),
                                                "peer_to_peer_with_metadata", (currency_type_tag("XUS"),), args))
    raw = RawTransaction(AccountAddress(TESTNET_DD), sequence_number, payload, 1_000_000, 0, "XUS",
                         expiration_secs, ChainId(CHAIN_ID))
    return sign_raw_transaction(DD_KEY, raw)


class FakeClock:
    """A monotonic microsecond clock shared by the cluster."""

    def __init__(self) -> None:
        self.now_usecs = START_USECS

    def __call__(self) -> int:
        self.now_usecs += CLOCK_STEP_USECS
        return self.now_usecs


@dataclass(slots=True)
class Node:
    """One validator: its key, store (its disk) and the runtime (None while crashed)."""

    key: PrivateKey
    store: Store
    runtime: Runtime | None = None
    timer: SetTimer | None = None
    has_deferred_payload: bool = False
    sent: list[Outbound] = field(default_factory=list)

    @property
    def address(self) -> bytes:
        return self.key.public_key().address()


class Cluster:
    """N runtimes exchanging messages synchronously; timers fire only when the network is idle."""

    def __init__(self, count: int = 4, store_factory: Callable[[bytes], MemoryStore] | None = None,
                 empty_block_delay_ms: int = 0, *, keys: list[PrivateKey] | None = None,
                 genesis: tuple[BlockCommit, bytes, ValidatorSet] | None = None, reputation: bool = False) -> None:
        self.empty_block_delay_ms = empty_block_delay_ms
        # [ELECT-2] leader reputation, as nodes run by default
        self.pacemaker = PacemakerConfig(reputation=ReputationConfig() if reputation else None)
        keys = keys if keys is not None else make_validator_keys(count)
        self.genesis_commit, self.genesis_hash, self.validators = genesis if genesis is not None else make_genesis(keys)
        self.clock = FakeClock()
        self.queue: deque[tuple[bytes, bytes, bytes]] = deque()
        self.down: set[bytes] = set()
        self.nodes: dict[bytes, Node] = {}
        for key in keys:
            factory = store_factory or (lambda genesis_hash: MemoryStore(chain_id=CHAIN_ID, genesis_hash=genesis_hash))
            store = factory(self.genesis_hash)
            apply_genesis(store, self.genesis_commit)
            node = Node(key, store)
            self.nodes[node.address] = node
        self.delivered = 0
        self.effect_hooks: dict[bytes, Callable[[object], None]] = {}
        self.application_factory: Callable[[], object] = ContractsApplication
        self.fast_sync_nodes: set[bytes] = set()  # nodes whose runtime starts with fast sync on (ADR 0018)

    def make_runtime(self, node: Node) -> Runtime:
        """Build a runtime from the node's store only (a start or a restart after a crash)."""
        public_key = node.key.public_key().data
        core = CoreConfig(node.address, InsecureHashSigner(public_key), InsecureHashScheme(), CHAIN_ID,
                          pacemaker=self.pacemaker)
        config = RuntimeConfig(core, empty_block_delay_ms=self.empty_block_delay_ms,
                               fast_sync=node.address in self.fast_sync_nodes)
        runtime = Runtime(config, node.store, self.application_factory(), Mempool(), self.clock)
        runtime.effect_hook = self.effect_hooks.pop(node.address, None)
        return runtime

    def start(self, address: bytes | None = None) -> None:
        """Start one node (or all) from its store."""
        for node in self.nodes.values():
            if address is None or node.address == address:
                node.runtime = self.make_runtime(node)
                self.down.discard(node.address)
                try:
                    self.dispatch(node, node.runtime.start())
                except Crash:
                    self.crash(node.address)
                    continue
                self.dispatch(node, node.runtime.get_catchup_requests(is_startup=True))

    def crash(self, address: bytes) -> None:
        """Lose the node's memory; its store (disk) survives, without what was staged but not yet synced."""
        node = self.nodes[address]
        node.store = Store(node.store.backend, node.store.location, None, None)
        node.runtime = None
        node.timer = None
        self.down.add(address)

    def dispatch(self, node: Node, outbound: list[Outbound]) -> None:
        """Put a node's outbound actions on the fake network."""
        for action in outbound:
            node.sent.append(action)
            if isinstance(action, SendData):
                self.queue.append((node.address, action.to, action.data))
            elif isinstance(action, BroadcastData):
                for address in self.nodes:
                    if address != node.address:
                        self.queue.append((node.address, address, action.data))
            elif isinstance(action, SetTimer):
                node.timer = action
            elif isinstance(action, DeferPayload):
                node.has_deferred_payload = True

    def deliver_one(self) -> None:
        """Deliver the oldest message (dropped if either side is down)."""
        sender, receiver, data = self.queue.popleft()
        node = self.nodes[receiver]
        if sender in self.down or receiver in self.down or node.runtime is None:
            return
        self.delivered += 1
        try:
            self.dispatch(node, node.runtime.process_peer_data(sender, data))
        except Crash:
            self.crash(receiver)

    def fire_timers(self) -> None:
        """Propose deferred payloads if any are waiting, else fire every armed timer of a live node."""
        deferred = [node for node in self.nodes.values() if node.has_deferred_payload and node.runtime is not None]
        for node in deferred:
            node.has_deferred_payload = False
            self.dispatch(node, node.runtime.process_deferred_payload())
        if deferred:
            return
        for node in self.nodes.values():
            if node.runtime is not None:
                self.dispatch(node, node.runtime.get_catchup_requests())
            if node.runtime is not None and node.timer is not None:
                timer, node.timer = node.timer, None
                try:
                    self.dispatch(node, node.runtime.process(LocalTimeout(timer.epoch, timer.round)))
                except Crash:
                    self.crash(node.address)

    def run_until(self, predicate: Callable[[], bool], deliveries_max: int = DELIVERIES_MAX) -> bool:
        """Deliver messages (firing timers when idle) until predicate holds; False when out of budget."""
        for _ in range(deliveries_max):
            if predicate():
                return True
            if self.queue:
                self.deliver_one()
            else:
                self.fire_timers()
        return predicate()

    def submit(self, address: bytes, txn: SignedTransaction):
        """Submit a transaction to one node and share it like the service does."""
        node = self.nodes[address]
        result = node.runtime.submit_transaction(txn.to_bcs())
        self.dispatch(node, node.runtime.take_outbound())
        return result

    def get_runtime(self, address: bytes) -> Runtime:
        """Return a live node's runtime."""
        runtime = self.nodes[address].runtime
        assert runtime is not None
        return runtime

    def is_committed_everywhere(self, txn_hash: bytes) -> bool:
        """Return True when every live node's store holds txn_hash."""
        return all(is_committed(node.store, txn_hash) for node in self.nodes.values() if node.address not in self.down)


def is_committed(store: MemoryStore, txn_hash: bytes) -> bool:
    """Return True when the store holds a committed transaction with this hash."""
    from node.storage.codecs import decode_transaction_info_hash

    latest = store.get_latest_version() or 0
    start = 0
    while start <= latest:
        records = store.get_transactions(start, 1000)
        if not records:
            break
        if any(decode_transaction_info_hash(record.info) == txn_hash for record in records):
            return True
        start = records[-1].version + 1
    return False


class Crash(BaseException):
    """A simulated kill -9 between two effects (a BaseException: the runtime contains every Exception of a message)."""


def crash_before_effect(effect_index: int):
    """Return an effect hook that raises Crash right before the effect_index-th effect."""
    counter = {"seen": 0}

    def hook(_effect: object) -> None:
        if counter["seen"] == effect_index:
            counter["seen"] += 1
            raise Crash(effect_index)
        counter["seen"] += 1

    return hook


def get_sent_votes(node: Node) -> list:
    """Return every vote a node sent (any incarnation), decoded from its outbound bytes."""
    from consensus.types import VoteMsg, decode_message
    from node.runtime.wire import CHANNEL_CONSENSUS, decode_envelope

    votes = []
    for action in node.sent:
        if isinstance(action, (SendData, BroadcastData)):
            channel, body = decode_envelope(action.data)
            if channel == CHANNEL_CONSENSUS:
                message = decode_message(body)
                if isinstance(message, VoteMsg):
                    votes.append(message.vote)
    return votes


def get_ledger_head(store: MemoryStore) -> tuple[int, bytes, bytes]:
    """Return (version, state root, accumulator root) of a store's last committed ledger info."""
    from primitives.certified.ledger_info import decode_ledger_info

    info = decode_ledger_info(store.get_latest_ledger_info().ledger_info).ledger_info
    return info.version, info.state_root, info.accumulator_root


def get_sent_proposals(node: Node) -> list:
    """Return every proposal a node broadcast, decoded."""
    from consensus.types import ProposalMsg, decode_message
    from node.runtime.wire import CHANNEL_CONSENSUS, decode_envelope

    proposals = []
    for action in node.sent:
        if isinstance(action, BroadcastData):
            channel, body = decode_envelope(action.data)
            if channel == CHANNEL_CONSENSUS and isinstance(message := decode_message(body), ProposalMsg):
                proposals.append(message)
    return proposals


def make_equivocation(cluster: Cluster, proposal) -> bytes:  # noqa: ANN001 - ProposalMsg
    """Return peer bytes of a second, different proposal by the same leader for the same round."""
    from dataclasses import replace

    from consensus.types import Block, ProposalMsg, encode_message
    from node.runtime.wire import CHANNEL_CONSENSUS, encode_envelope
    from primitives.certified.blocks import compute_block_id
    from primitives.certified.domains import PROPOSAL_DOMAIN, compute_signing_bytes

    leader = cluster.nodes[proposal.block.author]
    data = replace(proposal.block.data, payload=(b"equivocation",))
    block_id = compute_block_id(data)
    signer = InsecureHashSigner(leader.key.public_key().data)
    block = Block(data, block_id, signer.sign(compute_signing_bytes(PROPOSAL_DOMAIN, CHAIN_ID, block_id)))
    return encode_envelope(CHANNEL_CONSENSUS, encode_message(ProposalMsg(block, proposal.sync_info)))
