"""Executor benchmark: signed p2p transfers between funded child VASPs, state root and accumulator included.

Signing, the signature check and the transaction hash happen at admission (mempool) and are not timed; block
execution, the write set, TransactionInfos, the state root and the accumulator root are.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import time

from contracts.executor import execute_block
from contracts.framework import TESTNET_DD, TREASURY_COMPLIANCE
from contracts.genesis import DealerConfig, GenesisConfig, build_genesis
from contracts.ledger_trees import LedgerTrees
from contracts.outputs import LedgerUpdate
from contracts.state import ACCUMULATOR_PLACEHOLDER_HASH
from contracts.vm.storage import InMemoryStateView
from primitives.bcs import encode_uleb128
from primitives.keys import PrivateKey
from primitives.types.ledger_transactions import BlockMetadata
from primitives.types.names import AccountAddress, ChainId
from primitives.types.scripts import ScriptFunction
from primitives.types.transactions import RawTransaction, TransactionPayload, sign_raw_transaction
from primitives.types.type_tags import ModuleId, currency_type_tag

# A realistic state, not a hot set: 100,000 funded accounts, each block touching ~2,000 distinct ones.
ACCOUNTS = 100_000
FUNDING_MICRO = 10**9
CHILDREN_PER_PARENT = 50_000  # under the framework's MAX_CHILD_ACCOUNTS
SETUP_BLOCK_TRANSACTIONS = 5_000
SEED = 20261206
TRANSFER_MICRO = 1_000
EXPIRATION_SECS = 10**10
PROPOSER = AccountAddress(b"\x77" * 16)


def _payload(module: str, function: str, args: list[bytes]) -> TransactionPayload:
    module_id = ModuleId(AccountAddress.CORE_CODE, module)
    call = ScriptFunction(module_id, function, (currency_type_tag("XUS"),), tuple(args))
    return TransactionPayload(call)


def _vec(data: bytes) -> bytes:
    return encode_uleb128(len(data)) + data


class _Bench:
    def __init__(self) -> None:
        self.dr = PrivateKey.from_seed_material(b"bench-dr")
        self.tc = PrivateKey.from_seed_material(b"bench-tc")
        self.dd = PrivateKey.from_seed_material(b"bench-dd")
        config = GenesisConfig(self.dr.public_key().data, self.tc.public_key().data,
                               dealers=(DealerConfig(TESTNET_DD, self.dd.public_key().data, initial_balance=10**17),))
        self.state = InMemoryStateView(build_genesis(config).write_set)
        self.trees = LedgerTrees.in_memory()
        self.trees.commit(self._genesis_update())
        self.seqs: dict[bytes, int] = {}
        self.round = 0
        self.time_us = 1_000_000
        self.cpu_seconds = 0.0

    def _genesis_update(self) -> LedgerUpdate:
        """The genesis state as tree version 0 (the accumulator starts empty: the benchmark times blocks only)."""
        root, nodes = self.trees.tree.compute_update(0, self.state.values)
        return LedgerUpdate((), 0, root, ACCUMULATOR_PLACEHOLDER_HASH, nodes, 0, {})

    def sign(self, key: PrivateKey, payload: TransactionPayload, sender: bytes | None = None):  # noqa: ANN201
        address = sender or key.public_key().address()
        seq = self.seqs.get(address, 0)
        self.seqs[address] = seq + 1
        raw = RawTransaction(AccountAddress(address), seq, payload, 1_000_000, 0, "XUS", EXPIRATION_SECS, ChainId(2))
        signed = sign_raw_transaction(key, raw)
        signed.hash()  # computed (and cached) at admission, like the node's mempool does, with the signature check
        return signed

    def run(self, txns: list) -> float:  # noqa: ANN001
        self.round += 1
        self.time_us += 1_000_000
        metadata = BlockMetadata(bytes(32), self.round, self.time_us, (), PROPOSER)
        start, cpu_start = time.perf_counter(), time.process_time()
        output = execute_block(self.state, metadata, txns, trees=self.trees)
        self.state.apply(output.write_set)
        self.trees.commit(output.get_ledger_update())
        elapsed = time.perf_counter() - start
        self.cpu_seconds += time.process_time() - cpu_start
        failed = [o for o in output.transactions if not (o.keep and o.status.is_executed())]
        if failed:
            raise SystemExit(f"benchmark transaction failed: {failed[0]}")
        return elapsed

    def setup_parent(self, index: int, children: int) -> PrivateKey:
        """Create and fund one parent VASP with enough for its children."""
        parent = PrivateKey.from_seed_material(b"bench-parent-%d" % index)
        parent_address = parent.public_key().address()
        prefix = parent.public_key().auth_key()[:16]
        self.run([self.sign(self.tc, _payload("AccountCreationScripts", "create_parent_vasp_account",
                                              [bytes(8), parent_address, _vec(prefix), _vec(b"bench"), b"\x00"]),
                            TREASURY_COMPLIANCE)])
        self.run([self.sign(self.dd, _payload("PaymentScripts", "peer_to_peer_with_metadata",
                                              [parent_address, (FUNDING_MICRO * (children + 1)).to_bytes(8, "little"),
                                               b"\x00", b"\x00"]), TESTNET_DD)])
        return parent

    def setup_accounts(self, count: int) -> list[tuple[PrivateKey, bytes]]:
        """Create count funded child VASPs under as many parents as the framework's limit needs."""
        children = [PrivateKey.from_seed_material(b"bench-child-%d" % i) for i in range(count)]
        for first in range(0, count, CHILDREN_PER_PARENT):
            group = children[first:first + CHILDREN_PER_PARENT]
            parent = self.setup_parent(first // CHILDREN_PER_PARENT, len(group))
            creations = []
            for child in group:
                address = child.public_key().address()
                args = [address, _vec(child.public_key().auth_key()[:16]), b"\x00", FUNDING_MICRO.to_bytes(8, "little")]
                creations.append(self.sign(parent, _payload("AccountCreationScripts", "create_child_vasp_account",
                                                            args)))
            for start in range(0, len(creations), SETUP_BLOCK_TRANSACTIONS):
                self.run(creations[start:start + SETUP_BLOCK_TRANSACTIONS])
        return [(child, child.public_key().address()) for child in children]


def make_blocks(bench: _Bench, accounts: list[tuple[PrivateKey, bytes]], block_size: int, blocks: int) -> list[list]:
    """Return signed transfer blocks; each block's senders and payees are distinct accounts drawn at random."""
    rng = random.Random(SEED)
    result = []
    for _ in range(blocks):
        touched = rng.sample(range(len(accounts)), min(len(accounts), 2 * block_size))
        txns = []
        for i in range(block_size):
            key, _ = accounts[touched[i % len(touched)]]
            _, payee = accounts[touched[(block_size + i) % len(touched)]]
            txns.append(bench.sign(key, _payload("PaymentScripts", "peer_to_peer_with_metadata",
                                                 [payee, TRANSFER_MICRO.to_bytes(8, "little"), b"\x00", b"\x00"])))
        result.append(txns)
    return result


def main() -> None:
    """Run the benchmark and print executed transfers per second (signatures are made before timing)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--block-size", type=int, default=1000)
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--accounts", type=int, default=ACCOUNTS, help="funded accounts (the state's size)")
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    bench = _Bench()
    accounts = bench.setup_accounts(options.accounts)
    blocks = make_blocks(bench, accounts, options.block_size, options.blocks)
    # Long-lived set-up objects (accounts, pre-signed blocks) leave the cyclic GC's working set, as a node
    # would do after start-up; collections still run for everything the timed blocks allocate.
    gc.collect()
    gc.freeze()
    bench.cpu_seconds = 0.0
    elapsed = sum(bench.run(txns) for txns in blocks)
    total = options.block_size * options.blocks
    cpu = bench.cpu_seconds
    result = {"transactions": total, "seconds": round(elapsed, 3), "tx_per_second": round(total / elapsed, 1),
              "cpu_seconds": round(cpu, 3), "tx_per_cpu_second": round(total / cpu, 1),
              "block_size": options.block_size, "blocks": options.blocks, "accounts": options.accounts}
    print(json.dumps(result) if options.json else
          f"executed {total} p2p transfers in {elapsed:.3f} s wall ({total / elapsed:,.0f} tx/s), "
          f"{cpu:.3f} s CPU ({total / cpu:,.0f} tx/CPU-s) among {options.accounts:,} accounts; one core, "
          f"state root + accumulator included, signatures excluded")


if __name__ == "__main__":
    main()
