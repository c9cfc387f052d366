"""The file-descriptor budget: listeners are capped so that storage and peers always have descriptors left."""

from __future__ import annotations

import resource

from node.config import NodeConfig
from node.network.gate import PEER_PENDING_HANDSHAKES_MAX
from node.service.assembly import NodeStartError
from node.storage.backends import LEVELDB_MAX_OPEN_FILES

# Kept for LevelDB (its table cache plus logs and the manifest), peers (two sockets each, at most), the node's
# own files (keys, audit and rejection logs, sanctions list) and the interpreter.
STORAGE_DESCRIPTORS_RESERVED = LEVELDB_MAX_OPEN_FILES + 64
PEER_DESCRIPTORS_PER_PEER = 2
MISC_DESCRIPTORS_RESERVED = 128


def compute_descriptors_needed(config: NodeConfig) -> int:
    """Return how many descriptors the node may hold at once under its configured caps."""
    regulator = 0 if config.regulator is None else config.regulator.connections_max
    peers = PEER_DESCRIPTORS_PER_PEER * len(config.network.peers) + PEER_PENDING_HANDSHAKES_MAX
    return (STORAGE_DESCRIPTORS_RESERVED + MISC_DESCRIPTORS_RESERVED + peers + config.rpc.connections_max
            + regulator)


def ensure_descriptor_budget(config: NodeConfig) -> int:
    """Raise the soft descriptor limit to fit the budget (up to the hard limit); refuse to start when it cannot."""
    needed = compute_descriptors_needed(config)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft != resource.RLIM_INFINITY and soft < needed:
        raise NodeStartError(f"the node needs {needed} file descriptors (storage, peers and listener caps) but the "
                             f"limit is {soft}: raise `ulimit -n` or lower rpc.connections_max")
    return needed
