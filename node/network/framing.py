"""Length-prefixed frames and the msgpack envelope of peer messages."""

from __future__ import annotations

import asyncio

import msgpack

from node.network.noise import TAG_LENGTH_BYTES

FRAME_HEADER_BYTES = 4
# One frame carries one peer message. A node sets its cap from `[network] frame_bytes_max`, which node.config
# keeps at or above the node's own largest message ([NET-4]); this default is the same 16 MiB.
MAX_FRAME_BYTES = 16 * 1024 * 1024
# Handshake frames are tiny (IK message 1 is 96 bytes plus a short payload).
MAX_HANDSHAKE_FRAME_BYTES = 1024
# Sent in handshake message 1; a listener refuses any other version.
NETWORK_PROTOCOL_VERSION = 1
MESSAGE_KIND_DATA = 0
MESSAGE_KIND_PING = 1
# msgpack envelope [kind, data] around the caller's bytes: a fixarray, an int, a bin32 header.
ENVELOPE_OVERHEAD_BYTES = 1 + 1 + 5


class FrameTooLarge(Exception):
    """A peer announced a frame above the cap; nothing of it is read."""


class MalformedMessage(Exception):
    """A decrypted frame that is not a well-formed envelope."""


def get_max_payload_bytes(max_frame_bytes: int) -> int:
    """Return the largest caller payload that fits one frame."""
    return max_frame_bytes - TAG_LENGTH_BYTES - ENVELOPE_OVERHEAD_BYTES


def encode_frame(body: bytes) -> bytes:
    """Return body with its 4-byte big-endian length in front."""
    return len(body).to_bytes(FRAME_HEADER_BYTES, "big") + body


async def read_frame(reader: asyncio.StreamReader, max_frame_bytes: int) -> bytes:
    """Read one frame, refusing (before reading the body) any frame above max_frame_bytes."""
    header = await reader.readexactly(FRAME_HEADER_BYTES)
    length = int.from_bytes(header, "big")
    if length > max_frame_bytes:
        raise FrameTooLarge(f"frame of {length} bytes above the cap of {max_frame_bytes}")
    return await reader.readexactly(length)


def encode_message(data: bytes) -> bytes:
    """Return the msgpack envelope of an application message."""
    return msgpack.packb([MESSAGE_KIND_DATA, data], use_bin_type=True)


def encode_ping() -> bytes:
    """Return the envelope of a keep-alive, sent when a connection has been idle."""
    return msgpack.packb([MESSAGE_KIND_PING, b""], use_bin_type=True)


def decode_message(plaintext: bytes) -> bytes | None:
    """Return the application bytes of an envelope (None for a keep-alive), or raise MalformedMessage."""
    try:
        envelope = msgpack.unpackb(plaintext, raw=False, strict_map_key=True)
    # Any exception here comes from peer bytes, so all of them mean "malformed", never a crash.
    except Exception as error:
        raise MalformedMessage("not msgpack") from error
    if (
        not isinstance(envelope, list)
        or len(envelope) != 2
        or envelope[0] not in (MESSAGE_KIND_DATA, MESSAGE_KIND_PING)
        or not isinstance(envelope[1], bytes)
    ):
        raise MalformedMessage("not a [kind, bytes] envelope")
    return envelope[1] if envelope[0] == MESSAGE_KIND_DATA else None


def encode_hello(timestamp_ms: int) -> bytes:
    """Return the payload of handshake message 1: protocol version and a strictly rising stamp."""
    return msgpack.packb([NETWORK_PROTOCOL_VERSION, timestamp_ms])


def decode_hello(payload: bytes) -> int | None:
    """Return the stamp of a hello in the protocol version this node speaks, else None."""
    try:
        version, timestamp_ms = msgpack.unpackb(payload)
    # Peer bytes: any decoding failure is a refusal, never a crash.
    except Exception:
        return None
    if version != NETWORK_PROTOCOL_VERSION or type(timestamp_ms) is not int or timestamp_ms < 0:
        return None
    return timestamp_ms
