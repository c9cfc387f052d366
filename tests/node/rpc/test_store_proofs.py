"""Proofs read from a real node store, filled by a four-validator cluster: they verify like the memory ledger's."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts.framework import account, currency
from contracts.state import AccountStateProof, AccumulatorConsistencyProof, TransactionInfoWithProof, verify_consistency
from contracts.state.event_proof import EventWithProof
from node.rpc.ledger import CommitNotifier, StoreLedgerReader
from node.rpc.methods import create_dispatcher
from node.runtime.submit import SubmitResult, SubmitStatus
from primitives.certified.ledger_info import compute_genesis_hash
from primitives.certified.ledger_info import decode_ledger_info
from primitives.certified.ledger_info import decode_epoch_change_proof
from primitives.certified.ledger_info import check_ledger_info_signatures
from primitives.certified.signatures import InsecureHashScheme
from primitives.types.ledger_transactions import Transaction
from tests.node.runtime.harness import CHAIN_ID, PAYEE, Cluster, make_transfer

SCHEME = InsecureHashScheme()
TRANSFERS = 3


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    cluster = Cluster()
    cluster.start()
    address = next(iter(cluster.nodes))
    results = [cluster.submit(address, make_transfer(sequence)) for sequence in range(TRANSFERS)]
    assert cluster.run_until(lambda: all(cluster.is_committed_everywhere(r.txn_hash) for r in results))
    return cluster


async def call(ledger: StoreLedgerReader, method: str, *params: Any) -> Any:
    dispatcher = create_dispatcher(ledger, lambda _signed: SubmitResult(SubmitStatus.MALFORMED), 20, 32 * 1024)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    answer = await dispatcher.dispatch(body)
    assert "error" not in answer, answer
    return answer["result"]


async def test_a_node_store_serves_proofs_that_verify_from_genesis(cluster: Cluster) -> None:
    store = next(iter(cluster.nodes.values())).store
    ledger = StoreLedgerReader(store, CHAIN_ID)
    state = await call(ledger, "get_state_proof", 0)
    certificate = decode_ledger_info(bytes.fromhex(state["ledger_info_with_signatures"]))
    links = decode_epoch_change_proof(bytes.fromhex(state["epoch_change_proof"])).ledger_infos
    assert compute_genesis_hash(links[0]) == cluster.genesis_hash
    assert check_ledger_info_signatures(certificate, links[0].ledger_info.next_validator_set, SCHEME, CHAIN_ID) is None
    info = certificate.ledger_info
    consistency = AccumulatorConsistencyProof.from_bcs(bytes.fromhex(state["ledger_consistency_proof"]))
    assert verify_consistency(links[0].ledger_info.accumulator_root, 1, info.accumulator_root, info.version + 1,
                              consistency)

    proven = await call(ledger, "get_account_state_with_proof", PAYEE.hex(), None, info.version)
    balance_key = account.Balance.of(currency.tag_of_code(b"XUS")).state_key(PAYEE)
    for item in proven["resources"]:
        value = None if item["value"] is None else bytes.fromhex(item["value"])
        proof = AccountStateProof.from_bcs(bytes.fromhex(item["proof"]))
        assert proof.verify(info.accumulator_root, proven["version"], bytes.fromhex(item["key"]), value, info.version)
        if item["key"] == balance_key.hex():
            assert account.Balance.of(currency.tag_of_code(b"XUS")).decode(value).coin.value == TRANSFERS

    listed = await call(ledger, "get_transactions_with_proofs", 0, 100, True, info.version)
    assert len(listed["transactions"]) == info.version + 1
    for item in listed["transactions"]:
        proof = TransactionInfoWithProof.from_bcs(bytes.fromhex(item["proof"]))
        assert proof.verify(info.accumulator_root, item["version"], info.version)
        assert Transaction.from_bcs(bytes.fromhex(item["bytes"])).hash() == proof.transaction_info.transaction_hash

    payee = await call(ledger, "get_account", PAYEE.hex())
    events = await call(ledger, "get_events_with_proofs", payee["received_events_key"], 0, 10, info.version)
    decoded = [EventWithProof.from_bcs(bytes.fromhex(item["event_with_proof"])) for item in events]
    assert [event.event.sequence_number for event in decoded] == list(range(TRANSFERS))
    assert all(event.verify(info.accumulator_root, info.version) for event in decoded)


def test_the_commit_notifier_fans_out_and_survives_a_failing_callback() -> None:
    notifier = CommitNotifier()
    seen: list[int] = []

    def broken(_version: int) -> None:
        raise RuntimeError("bug in a subscriber")

    notifier.subscribe_commits(broken)
    remove = notifier.subscribe_commits(seen.append)
    notifier.notify(5)
    remove()
    notifier.notify(6)
    assert seen == [5]
