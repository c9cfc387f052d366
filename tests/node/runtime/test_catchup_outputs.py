"""Certified outputs (ADR 0020): applied without the VM when they match the certificate, refused with nothing written
when a peer tampered with any part of them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from node.runtime.catchup import CatchUpRequest, CatchUpResponse, CatchUpStatus
from node.runtime.catchup_wire import decode_response, encode_response, get_certified_blocks
from contracts.state.transaction_info import decode_state_changes, encode_state_changes
from node.runtime.certified_outputs import BlockOutputs
from node.runtime.executor import SpeculativeExecutor
from node.storage.codecs import decode_stored_info, encode_stored_info
from tests.node.runtime.harness import get_ledger_head
from tests.node.runtime.test_catchup import apply_catchup_response, make_lagging_cluster


def make_response():
    """Return the cluster, the laggard, the helper and a response with outputs for the laggard's missing blocks."""
    cluster, laggard, _, _ = make_lagging_cluster()
    helper = cluster.get_runtime(list(cluster.nodes)[0])
    blocks, certificate, outputs = get_certified_blocks(helper.store, CatchUpRequest(1, 0, 64), 1)
    assert len(outputs) == len(blocks), "the helper keeps every block's outputs"
    return laggard, helper, CatchUpResponse(tuple(blocks), certificate, tuple(outputs))


def get_user_block_index(response: CatchUpResponse) -> int:
    """Return the index of a block that holds a user transaction (with events)."""
    return next(index for index, output in enumerate(response.outputs) if len(output.infos) > 1)


def with_output(response: CatchUpResponse, index: int, output: BlockOutputs) -> CatchUpResponse:
    """Return the response with one block's outputs replaced."""
    outputs = list(response.outputs)
    outputs[index] = output
    return replace(response, outputs=tuple(outputs))


def refuse_execution(monkeypatch) -> None:  # noqa: ANN001
    """Make any block execution fail the test."""
    def execute(self, block, *, is_certified=False):  # noqa: ANN001, ANN202
        raise AssertionError("a block was executed")

    monkeypatch.setattr(SpeculativeExecutor, "execute", execute)


def test_certified_outputs_are_applied_without_executing_and_store_what_the_helper_stored(monkeypatch) -> None:
    laggard, helper, response = make_response()
    response = decode_response(encode_response(response))  # as it crosses the wire
    refuse_execution(monkeypatch)
    assert apply_catchup_response(laggard, response) == CatchUpStatus.APPLIED
    info = response.certificate.ledger_info
    assert get_ledger_head(laggard.store) == (info.version, info.state_root, info.accumulator_root)
    for version in range(1, info.version + 1):
        assert laggard.store.get_transaction(version) == helper.store.get_transaction(version)
        assert laggard.store.get_events_by_version(version) == helper.store.get_events_by_version(version)
    # The laggard keeps the outputs too, so it can serve them in turn.
    _, _, served = get_certified_blocks(laggard.store, CatchUpRequest(1, 0, 64), 1)
    assert served == list(response.outputs)


def assert_refused(laggard, response: CatchUpResponse, status: CatchUpStatus) -> None:  # noqa: ANN001
    """The response is refused with status and nothing is written or kept."""
    assert apply_catchup_response(laggard, response) == status
    assert laggard.store.get_latest_version() == 0
    assert all(laggard.executor.get_executed(block.id) is None for block in response.blocks)


def get_writes(output: BlockOutputs, position: int) -> list[tuple[bytes, bytes | None]]:
    """Return one transaction's writes."""
    return list(decode_state_changes(output.state_changes[position]).items())


def with_writes(output: BlockOutputs, writes: list) -> BlockOutputs:  # noqa: ANN001
    """Return the outputs with the last transaction's write set replaced (encoded as validators encode it)."""
    return replace(output, state_changes=(*output.state_changes[:-1], encode_state_changes(dict(writes))))


def test_a_tampered_state_value_is_refused() -> None:
    laggard, _, response = make_response()
    index = get_user_block_index(response)
    output = response.outputs[index]
    (key, value), *rest = get_writes(output, -1)
    tampered = with_writes(output, [(key, (value or b"") + b"\x01"), *rest])
    assert_refused(laggard, with_output(response, index, tampered), CatchUpStatus.BAD_OUTPUTS)


def test_a_write_left_out_is_refused() -> None:
    laggard, _, response = make_response()
    index = get_user_block_index(response)
    output = response.outputs[index]
    assert_refused(laggard, with_output(response, index, with_writes(output, get_writes(output, -1)[1:])),
                   CatchUpStatus.BAD_OUTPUTS)


@pytest.mark.parametrize("is_deletion", [True, False])
def test_a_write_that_changes_nothing_is_refused(is_deletion: bool) -> None:
    """It keeps every root (a key that never existed deleted, a value written again), but no transaction wrote it:
    taken, it would store rows no validator wrote (a Byzantine peer could fill the disk with them)."""
    laggard, _, response = make_response()
    index = get_user_block_index(response)
    output = response.outputs[index]
    last_keys = dict(get_writes(output, -1))
    # A key that never existed, deleted; or the block metadata's write, repeated by the last transaction.
    extra = (b"\x07" * 32, None) if is_deletion else next(write for write in get_writes(output, 0)
                                                           if write[0] not in last_keys)
    padded = with_writes(output, [*get_writes(output, -1), extra])
    assert_refused(laggard, with_output(response, index, padded), CatchUpStatus.BAD_OUTPUTS)


def test_tampered_events_are_refused() -> None:
    laggard, _, response = make_response()
    index = get_user_block_index(response)
    output = response.outputs[index]
    events = [list(transaction_events) for transaction_events in output.events]
    position = next(number for number, transaction_events in enumerate(events) if transaction_events)
    events[position][0] = events[position][0][:-1] + bytes([events[position][0][-1] ^ 1])
    tampered = replace(output, events=tuple(map(tuple, events)))
    assert_refused(laggard, with_output(response, index, tampered), CatchUpStatus.BAD_OUTPUTS)


def test_a_tampered_transaction_info_misses_the_certified_accumulator_and_is_refused() -> None:
    laggard, _, response = make_response()
    index = get_user_block_index(response)
    output = response.outputs[index]
    info, status = decode_stored_info(output.infos[-1])
    infos = (*output.infos[:-1], encode_stored_info(replace(info, gas_used=info.gas_used + 1), status))
    assert_refused(laggard, with_output(response, index, replace(output, infos=infos)), CatchUpStatus.ROOT_MISMATCH)


def test_an_info_naming_a_transaction_outside_the_block_is_refused() -> None:
    laggard, _, response = make_response()
    index = get_user_block_index(response)
    output = response.outputs[index]
    info, status = decode_stored_info(output.infos[-1])
    infos = (*output.infos[:-1], encode_stored_info(replace(info, transaction_hash=b"\x07" * 32), status))
    assert_refused(laggard, with_output(response, index, replace(output, infos=infos)), CatchUpStatus.BAD_OUTPUTS)


@pytest.mark.parametrize("count_change", [-1, 1])
def test_outputs_that_do_not_pair_with_the_blocks_are_refused(count_change: int) -> None:
    laggard, _, response = make_response()
    outputs = response.outputs[:-1] if count_change < 0 else (*response.outputs, response.outputs[-1])
    assert_refused(laggard, replace(response, outputs=outputs), CatchUpStatus.BAD_OUTPUTS)


def test_a_status_detail_the_certificate_cannot_vouch_for_is_re_executed() -> None:
    """Infos certify the status code only: a block whose outputs claim another detail is executed instead."""
    laggard, helper, response = make_response()
    index = get_user_block_index(response)
    output = response.outputs[index]
    info, _ = decode_stored_info(output.infos[-1])
    infos = (*output.infos[:-1], encode_stored_info(info, ("move_abort", "0x1::Forged", 7)))
    assert apply_catchup_response(laggard, with_output(response, index, replace(output, infos=infos))) == (
        CatchUpStatus.APPLIED)
    version = response.certificate.ledger_info.version
    assert [laggard.store.get_transaction(v) for v in range(1, version + 1)] == [
        helper.store.get_transaction(v) for v in range(1, version + 1)]


def test_the_request_for_the_next_blocks_leaves_before_a_deferred_response_is_applied() -> None:
    from node.runtime.wire import CHANNEL_CATCHUP_RESPONSE, SendData, encode_envelope

    laggard, helper, response = make_response()
    helper_address = helper.config.core.author
    laggard.catchup.highest_seen_commit = (1, 10**6, helper_address)  # far behind: the replay goes on after this
    laggard.is_catchup_deferred = True
    data = encode_envelope(CHANNEL_CATCHUP_RESPONSE, encode_response(response))
    outbound = laggard.process_peer_data(helper_address, data)
    assert [type(action) for action in outbound] == [SendData] and outbound[0].to == helper_address
    assert laggard.store.get_latest_version() == 0  # nothing applied yet
    laggard.apply_deferred_catchup()
    assert get_ledger_head(laggard.store)[0] == response.certificate.ledger_info.version
    assert laggard.deferred_catchup is None


def test_a_deferred_response_whose_base_moved_meanwhile_is_stale_and_writes_nothing() -> None:
    from node.runtime.wire import CHANNEL_CATCHUP_RESPONSE, encode_envelope

    laggard, helper, response = make_response()
    laggard.is_catchup_deferred = True
    data = encode_envelope(CHANNEL_CATCHUP_RESPONSE, encode_response(response))
    laggard.process_peer_data(helper.config.core.author, data)
    # The core commits the first blocks another way (here: a shorter certified response applied directly).
    blocks, certificate, outputs = get_certified_blocks(helper.store, CatchUpRequest(1, 0, 2), 1)
    assert apply_catchup_response(laggard, CatchUpResponse(tuple(blocks), certificate, tuple(outputs))) == (
        CatchUpStatus.APPLIED)
    laggard.state = laggard.recover_core()
    version = laggard.store.get_latest_version()
    assert laggard.apply_deferred_catchup() == []
    assert laggard.catchup.last_status == CatchUpStatus.STALE
    assert laggard.store.get_latest_version() == version


def test_block_retrieval_stays_off_while_the_replays_next_request_is_outstanding() -> None:
    """[SYNC-7] Near the end of a replay the gap is under one retrieval, but the pipelined answer closes it:
    retrieval (fetch, then execute every block) would race it and leave that answer stale."""
    from consensus.events import FetchBlocks
    from node.runtime.catchup import CATCHUP_RESPONSE_TIMEOUT_USECS
    from node.runtime.wire import CHANNEL_CATCHUP_RESPONSE, SendData, encode_envelope

    laggard, helper, response = make_response()
    helper_address = helper.config.core.author
    last_round = response.blocks[-1].round
    laggard.catchup.highest_seen_commit = (1, last_round + 5, helper_address)  # 5 rounds: not far behind
    data = encode_envelope(CHANNEL_CATCHUP_RESPONSE, encode_response(response))
    assert [type(action) for action in laggard.process_peer_data(helper_address, data)][:1] == [SendData]
    assert not laggard.catchup.is_far_behind(laggard.get_committed_position())
    laggard.take_outbound()
    laggard.apply(FetchBlocks(helper_address, b"\x05" * 32, 5))
    assert laggard.take_outbound() == []
    later_usecs = laggard.clock_usecs() + 10 * CATCHUP_RESPONSE_TIMEOUT_USECS
    laggard.catchup.clock_usecs = lambda: later_usecs  # the request timed out: retrieval is the node's way again
    laggard.apply(FetchBlocks(helper_address, b"\x05" * 32, 5))
    assert [type(action) for action in laggard.take_outbound()] == [SendData]


def test_a_response_too_large_with_its_outputs_is_served_without_them(monkeypatch) -> None:  # noqa: ANN001
    """Outputs must never make blocks unsendable: the transport drops a frame above its limit."""
    import node.runtime.catchup as catchup_module
    from node.runtime.wire import decode_envelope

    laggard, helper, response = make_response()
    requester = laggard.config.core.author
    request = CatchUpRequest(1, 0, 62)  # not a request served (and cached) before
    full = decode_response(decode_envelope(helper.catchup.process_request(requester, request, 1)[0].data)[1])
    assert full.outputs
    monkeypatch.setattr(catchup_module, "CATCHUP_ENCODED_RESPONSE_BYTES_MAX", len(encode_response(full)) - 1)
    request = CatchUpRequest(1, 0, 61)
    bare = decode_response(decode_envelope(helper.catchup.process_request(requester, request, 1)[0].data)[1])
    assert bare.outputs == () and bare.blocks == full.blocks
    assert apply_catchup_response(laggard, bare) == CatchUpStatus.APPLIED  # re-executed
