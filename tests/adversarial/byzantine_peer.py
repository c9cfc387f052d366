"""A Byzantine validator as its own process: it holds a real validator key and sends every hostile message class
at rate to the honest validators (`python -m tests.adversarial.byzantine_peer SPEC.json`)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

from consensus.epoch import make_genesis_epoch_state
from consensus.types import (
    BlockRetrievalResponse,
    SignedTimeout,
    SyncInfo,
    Timeout,
    TimeoutMsg,
    Vote,
    VoteMsg,
    encode_message,
    make_genesis_qc,
)
from node.keys.files import load_private_key
from node.network.noise import compute_network_public_key, make_network_key_pair
from node.network.peers import PeerInfo
from node.network.transport import Network, TransportConfig, compute_network_prologue
from node.runtime.catchup import CatchUpRequest, encode_request
from node.runtime.wire import (
    CHANNEL_CATCHUP_REQUEST,
    CHANNEL_CATCHUP_RESPONSE,
    CHANNEL_CONSENSUS,
    CHANNEL_TRANSACTION,
    encode_envelope,
)
from primitives.certified.blocks import VoteData
from primitives.certified.validators import ValidatorInfo, ValidatorSet

U64_MAX = 2**64 - 1
FAR_ROUND = 10**9
CONNECT_TIMEOUT_S = 30.0


def compose_hostile_messages(author: bytes, validators: ValidatorSet) -> dict[str, list[bytes]]:
    """Return, per hostile class, envelopes that decode but must change nothing at an honest node."""
    genesis = make_genesis_epoch_state(validators).genesis_block
    qc = make_genesis_qc(genesis)
    sync = SyncInfo(qc, None, None, None)
    info = genesis.get_info()
    far = VoteData(replace(info, round=FAR_ROUND), info)
    consensus = lambda message: encode_envelope(CHANNEL_CONSENSUS, encode_message(message))  # noqa: E731
    return {
        "garbage": [encode_envelope(channel, os.urandom(64)) for channel in (CHANNEL_CONSENSUS, CHANNEL_CATCHUP_RESPONSE)],
        "far_future_votes": [consensus(VoteMsg(Vote(far, author, os.urandom(64)), sync))],
        "far_future_timeouts": [consensus(TimeoutMsg(SignedTimeout(Timeout(1, FAR_ROUND, qc), author, os.urandom(64)), sync))],
        "last_epoch_claims": [consensus(TimeoutMsg(SignedTimeout(Timeout(U64_MAX, 5, qc), author, bytes(64)), sync))],
        "unsolicited_retrieval": [consensus(BlockRetrievalResponse(0, (genesis,)))],
        "catchup_floods": [encode_envelope(CHANNEL_CATCHUP_REQUEST, encode_request(CatchUpRequest(1, 0, count)))
                           for count in range(1, 65)],
        "bad_transactions": [encode_envelope(CHANNEL_TRANSACTION, os.urandom(200))],
    }


async def attack(spec: dict) -> None:
    """Connect as the Byzantine validator and send every class in turn at spec["rate_per_s"] for spec["duration_s"]."""
    own = spec["self"]
    key_pair = make_network_key_pair(load_private_key(Path(own["network_key_file"])))
    peers = [PeerInfo(bytes.fromhex(peer["address"]), compute_network_public_key(bytes.fromhex(peer["network_public_key"])),
                      "127.0.0.1", peer["port"]) for peer in spec["peers"]]
    network = Network(TransportConfig(bytes.fromhex(own["address"]), key_pair, "127.0.0.1", own["port"],
                                      compute_network_prologue(spec["chain_id"])), peers)
    validators = ValidatorSet.create([ValidatorInfo(bytes.fromhex(item["address"]), bytes.fromhex(item["consensus_key"]),
                                                    bytes.fromhex(item["consensus_key"]), 1) for item in spec["validators"]])
    messages = compose_hostile_messages(bytes.fromhex(own["address"]), validators)
    await network.start()
    try:
        await asyncio.wait_for(network.wait_connected(peer.peer_id for peer in peers), CONNECT_TIMEOUT_S)
        print("connected", flush=True)
        stream = itertools.cycle([data for batch in messages.values() for data in batch])
        interval_s = 1 / spec["rate_per_s"]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + spec["duration_s"]
        while loop.time() < deadline:
            network.broadcast(next(stream))
            await asyncio.sleep(interval_s)
    finally:
        await network.close()


if __name__ == "__main__":
    asyncio.run(attack(json.loads(Path(sys.argv[1]).read_text())))
