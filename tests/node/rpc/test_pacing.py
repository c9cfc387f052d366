"""Paced reads (issue H item 5): chunks run one at a time node-wide with the loop free between them, answers are
encoded exactly as before, and every paged read and long answer of the served app goes through the pacer."""

from __future__ import annotations

import asyncio
import json

from aiohttp.test_utils import TestClient, TestServer

from node.rpc.methods import create_dispatcher, render_transaction
from node.rpc.pacing import READ_CHUNK_ITEMS, READ_LOOP_SHARE_MAX, ReadPacer, encode_answer, is_plain, read_chunked
from node.rpc.server import create_app
from tests.node.rpc.memory_ledger import MemoryLedger

READERS = 3
ITEMS_PER_READER = 4 * READ_CHUNK_ITEMS + 7
BLOCKS = 2 * READ_CHUNK_ITEMS + 10
PROOFS = 100
CHUNK_WORK_S = 0.03
BURST_S = 0.1
FLOOD_CHUNKS = 40


class FakeTime:
    """A clock that moves only when work runs or the pacer rests; the rests are recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.rests: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.rests.append(seconds)
        self.now += seconds


async def test_chunks_run_one_at_a_time_node_wide_and_the_loop_runs_between_any_two() -> None:
    pacer, log, done = ReadPacer(), [], asyncio.Event()

    async def consensus() -> None:
        while not done.is_set():
            log.append("tick")
            await asyncio.sleep(0)

    def read(first: int, count: int) -> list[int]:
        log.append("chunk")
        return list(range(first, first + count))

    ticker = asyncio.create_task(consensus())
    pages = await asyncio.gather(*(read_chunked(pacer, read, 0, ITEMS_PER_READER) for _ in range(READERS)))
    done.set()
    await ticker
    assert pages == [list(range(ITEMS_PER_READER))] * READERS
    chunks = [index for index, entry in enumerate(log) if entry == "chunk"]
    assert len(chunks) == READERS * -(-ITEMS_PER_READER // READ_CHUNK_ITEMS) == pacer.chunks
    assert all(later - earlier > 1 for earlier, later in zip(chunks, chunks[1:])), "the loop ran between two chunks"


async def test_reads_take_at_most_their_share_of_the_loop_once_a_burst_is_spent() -> None:
    fake = FakeTime()
    pacer = ReadPacer(READ_LOOP_SHARE_MAX, BURST_S, fake.clock)
    pacer.sleep = fake.sleep

    def work() -> None:
        fake.now += CHUNK_WORK_S

    for _ in range(int(BURST_S // CHUNK_WORK_S) + 1):
        await pacer.run(work)
    assert fake.rests == [], "a lone page within the burst is served without a pause"
    for _ in range(FLOOD_CHUNKS):
        await pacer.run(work)
    busy_s = (int(BURST_S // CHUNK_WORK_S) + 1 + FLOOD_CHUNKS) * CHUNK_WORK_S
    assert busy_s <= READ_LOOP_SHARE_MAX * fake.now + BURST_S + CHUNK_WORK_S
    assert busy_s >= READ_LOOP_SHARE_MAX * fake.now, "reads rest no longer than their share needs"


async def test_a_short_chunk_ends_a_read_unless_the_read_skips_missing_positions() -> None:
    calls: list[int] = []

    def read(first: int, count: int) -> list[int]:
        calls.append(first)
        return [first] if first < 2 * READ_CHUNK_ITEMS else []

    assert await read_chunked(ReadPacer(), read, 0, 10 * READ_CHUNK_ITEMS) == [0]
    calls.clear()
    assert await read_chunked(ReadPacer(), read, 0, 3 * READ_CHUNK_ITEMS, stop_when_short=False) == [
        0, READ_CHUNK_ITEMS]
    assert len(calls) == 3


async def test_an_answer_is_encoded_exactly_as_compact_json() -> None:
    envelope = {"diem_chain_id": 2, "diem_ledger_version": 7, "jsonrpc": "2.0", "id": "é"}
    long_result = [{"version": i, "events": [{"key": "ab", "data": {"amount": i}}], "hash": "ü"} for i in range(130)]
    answers = [
        {**envelope, "result": long_result},
        [{**envelope, "result": long_result}, {**envelope, "result": None}, {**envelope, "result": []}],
        {**envelope, "error": {"code": -32600, "message": "Invalid Request", "data": None}},
        {**envelope, "result": {"sequence_number": 3, "balances": [{"amount": 1, "currency": "XUS"}]}},
        {**envelope, "result": {"ledger_version": 9, "transactions": long_result, "nested": {"list": [1, [2, {}]]}}},
    ]
    for answer in answers:
        assert await encode_answer(answer, ReadPacer()) == json.dumps(answer, separators=(",", ":"))


async def test_only_answers_without_a_list_to_cut_skip_the_pacer() -> None:
    envelope = {"diem_chain_id": 2, "diem_ledger_version": 7, "jsonrpc": "2.0", "id": 1}
    hidden_long_list = {**envelope, "result": {"account": {"events": list(range(3 * READ_CHUNK_ITEMS))}}}
    assert is_plain({**envelope, "result": None}) and is_plain({**envelope, "result": {"balances": [{"amount": 1}]}})
    assert not is_plain(hidden_long_list), "a long list in a nested object is still cut"
    pacer = ReadPacer()
    assert await encode_answer([{**envelope, "result": None}] * 20, pacer) == json.dumps([{**envelope, "result": None}] * 20,
                                                                                      separators=(",", ":"))
    assert pacer.chunks == 0
    assert await encode_answer(hidden_long_list, pacer) == json.dumps(hidden_long_list, separators=(",", ":"))
    assert pacer.chunks == 3


async def test_served_pages_and_proofs_are_read_and_encoded_through_the_pacer_as_before() -> None:
    ledger = MemoryLedger()
    for _ in range(BLOCKS):
        ledger.commit_block()
    dispatcher = create_dispatcher(ledger, ledger.submit, 20, 32 * 1024)
    async with TestClient(TestServer(create_app(dispatcher, ledger=ledger), host="127.0.0.1")) as client:
        request = {"jsonrpc": "2.0", "id": 1, "method": "get_transactions", "params": [0, BLOCKS, True]}
        answer = await (await client.post("/v1", json=request)).json()
        expected = [render_transaction(item, True) for item in ledger.get_transactions(0, BLOCKS)]
        assert answer["result"] == json.loads(json.dumps(expected))
        chunks = -(-BLOCKS // READ_CHUNK_ITEMS)
        assert dispatcher.pacer.chunks >= 2 * chunks, "read and encoded a chunk at a time"
        before = dispatcher.pacer.chunks
        request = {"jsonrpc": "2.0", "id": 1, "method": "get_transactions_with_proofs", "params": [0, PROOFS, True]}
        proven = await (await client.post("/v1", json=request)).json()
        assert len(proven["result"]["transactions"]) == PROOFS
        assert dispatcher.pacer.chunks - before >= 2 * -(-PROOFS // READ_CHUNK_ITEMS), "proofs are paced too"
