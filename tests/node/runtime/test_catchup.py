"""Catch-up responses are applied only when certified, linked to our root and re-executed to the same roots."""

from __future__ import annotations

from dataclasses import replace

from node.runtime.catchup import CatchUpRequest, CatchUpResponse, CatchUpStatus
from node.runtime.catchup_wire import get_certified_blocks
from tests.node.runtime.harness import Cluster, get_ledger_head, make_transfer

LAG_TRANSFERS = 3
# The laggard misses at least this many rounds, so a response holds more than 2 blocks and one can be cut out.
LAG_ROUNDS_MIN = 6


def apply_catchup_response(runtime, response: CatchUpResponse) -> CatchUpStatus:  # noqa: ANN001
    """Verify, apply and commit a response's blocks on a runtime (no restart); return APPLIED or why not."""
    status = runtime.catchup.apply_response(response, runtime.state)
    if status == CatchUpStatus.APPLIED:
        runtime.commit_blocks(response.certificate, response.blocks)
    return status


def make_lagging_cluster():
    cluster = Cluster()
    addresses = list(cluster.nodes)
    laggard = addresses[3]
    cluster.start()
    cluster.crash(laggard)
    results = [cluster.submit(addresses[0], make_transfer(sequence)) for sequence in range(LAG_TRANSFERS)]
    assert cluster.run_until(lambda: all(cluster.is_committed_everywhere(result.txn_hash) for result in results))
    helper = cluster.get_runtime(addresses[0])
    assert cluster.run_until(lambda: helper.state.tree.get_root().round >= LAG_ROUNDS_MIN)
    cluster.start(laggard)
    cluster.queue.clear()  # the laggard's start-up requests are answered by the test itself
    blocks, certificate, _outputs = get_certified_blocks(helper.store, CatchUpRequest(1, 0, 64),
                                                         helper.state.epoch_state.epoch)
    assert len(blocks) > 2 and certificate is not None, "enough blocks to cut one out of the middle"
    return cluster, cluster.get_runtime(laggard), blocks, certificate


def test_certified_blocks_are_applied_and_roots_match() -> None:
    cluster, laggard, blocks, certificate = make_lagging_cluster()
    assert apply_catchup_response(laggard, CatchUpResponse(tuple(blocks), certificate)) == CatchUpStatus.APPLIED
    info = certificate.ledger_info
    assert get_ledger_head(laggard.store) == (info.version, info.state_root, info.accumulator_root)


def test_a_forged_certificate_is_refused() -> None:
    _, laggard, blocks, certificate = make_lagging_cluster()
    forged = replace(certificate, ledger_info=replace(certificate.ledger_info, state_root=b"\x01" * 32))
    before = laggard.store.get_latest_version()
    assert apply_catchup_response(laggard, CatchUpResponse(tuple(blocks), forged)) == CatchUpStatus.BAD_CERTIFICATE
    assert laggard.store.get_latest_version() == before


def test_blocks_that_do_not_chain_to_the_certificate_are_refused() -> None:
    _, laggard, blocks, certificate = make_lagging_cluster()
    gapped = (blocks[0], *blocks[2:])
    assert apply_catchup_response(laggard, CatchUpResponse(gapped, certificate)) == CatchUpStatus.BAD_CHAIN
    assert apply_catchup_response(laggard, CatchUpResponse(tuple(blocks[:-1]), certificate)) in (
        CatchUpStatus.BAD_CHAIN, CatchUpStatus.EMPTY)
    assert apply_catchup_response(laggard, CatchUpResponse(tuple(blocks[1:]), certificate)) == CatchUpStatus.STALE
    assert laggard.store.get_latest_version() == 0


def test_a_certificate_for_other_roots_is_refused_after_re_execution() -> None:
    from primitives.certified.domains import COMMIT_VOTE_DOMAIN, compute_signing_bytes
    from primitives.certified.ledger_info import LedgerInfoWithSignatures
    from primitives.certified.signatures import InsecureHashSigner

    cluster, laggard, blocks, certificate = make_lagging_cluster()
    # More than 2/3 of power signs a wrong state root (the test scheme lets us forge their signatures).
    info = replace(certificate.ledger_info, state_root=b"\x01" * 32)
    message = compute_signing_bytes(COMMIT_VOTE_DOMAIN, 2, info)
    signatures = tuple(sorted((node.address, InsecureHashSigner(node.key.public_key().data).sign(message))
                              for node in cluster.nodes.values()))
    forged = LedgerInfoWithSignatures(info, signatures)
    assert apply_catchup_response(laggard, CatchUpResponse(tuple(blocks), forged)) == CatchUpStatus.ROOT_MISMATCH
    assert laggard.store.get_latest_version() == 0


def test_a_repeated_request_is_served_once_per_interval() -> None:
    cluster, laggard, _, _ = make_lagging_cluster()
    helper = cluster.get_runtime(list(cluster.nodes)[0])
    request = CatchUpRequest(1, 0, 63)  # not the start-up request, which was served already
    assert helper.catchup.process_request(laggard.config.core.author, request, 1)
    assert helper.catchup.process_request(laggard.config.core.author, request, 1) == []
    other_peer = list(cluster.nodes)[2]
    assert helper.catchup.process_request(other_peer, request, 1)




def test_an_answer_too_large_for_a_frame_is_not_sent_and_the_node_keeps_serving(monkeypatch) -> None:  # noqa: ANN001
    import node.runtime.catchup as catchup

    cluster, laggard, _, _ = make_lagging_cluster()
    helper = cluster.get_runtime(list(cluster.nodes)[0])
    request = CatchUpRequest(1, 0, 62)
    # [NET-4] As if one commit batch outgrew a frame: the answer is dropped, never handed to the transport.
    monkeypatch.setattr(catchup, "PEER_MESSAGE_BYTES_MAX", 64)
    assert helper.catchup.process_request(laggard.config.core.author, request, 1) == []
    monkeypatch.undo()
    assert helper.catchup.process_request(list(cluster.nodes)[2], request, 1)


def count_signature_checks(monkeypatch) -> list[int]:  # noqa: ANN001
    """Count SignedTransaction signature checks from now on."""
    from primitives.types.transactions import SignedTransaction

    calls = [0]
    original = SignedTransaction.is_signature_valid

    def counting(self) -> bool:  # noqa: ANN001
        calls[0] += 1
        return original(self)

    monkeypatch.setattr(SignedTransaction, "is_signature_valid", counting)
    return calls


def test_a_certified_replay_checks_no_transaction_signature(monkeypatch) -> None:
    _, laggard, blocks, certificate = make_lagging_cluster()
    calls = count_signature_checks(monkeypatch)
    assert apply_catchup_response(laggard, CatchUpResponse(tuple(blocks), certificate)) == CatchUpStatus.APPLIED
    assert calls[0] == 0  # the certificate vouches for the roots the replay reached


def test_a_replay_that_misses_the_certified_roots_is_redone_with_signature_checks(monkeypatch) -> None:
    """As when a block holds a badly signed transaction that validators skipped: the trusting pass includes it."""
    from node.runtime.executor import SpeculativeExecutor

    _, laggard, blocks, certificate = make_lagging_cluster()
    calls = count_signature_checks(monkeypatch)
    original = SpeculativeExecutor.get_executable

    def lossy(self, payload, is_certified=False):  # noqa: ANN001, ANN202 - the trusting pass misses every txn
        return ([], []) if is_certified else original(self, payload, is_certified)

    monkeypatch.setattr(SpeculativeExecutor, "get_executable", lossy)
    assert apply_catchup_response(laggard, CatchUpResponse(tuple(blocks), certificate)) == CatchUpStatus.APPLIED
    assert calls[0] > 0
    info = certificate.ledger_info
    assert get_ledger_head(laggard.store) == (info.version, info.state_root, info.accumulator_root)
