"""The node's consensus and network keys, plus the next ones: key files that may appear while the node runs."""

# Rotation without downtime (docs/staking.md step 5): the operator writes the new key to
# `[keys] next_consensus_key_file` / `next_network_key_file`, then registers it on chain. The runtime polls the
# consensus file after every commit and at every new epoch and adds the key to the core's ring
# (consensus.keyring.add_signers), so the core signs with it from the first round of the epoch whose set lists
# it. The service asks `follow_network_key` at every new epoch (and at start) for the Noise static key the set
# lists for us.

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from node.config import KeysConfig
from node.keys.files import KeyFileError, load_private_key
from node.logging import get_logger
from node.network.noise import KeyPair, make_network_key_pair
from primitives.certified.signatures import Ed25519Signer, Signer
from primitives.certified.validators import ValidatorSet
from primitives.keys import PrivateKey

log = get_logger("stablechain.keyring")


class ConsensusKeySource(Protocol):
    """What the runtime asks for the consensus key ring (NodeKeyring; tests may fake it)."""

    def poll_consensus_keys(self) -> bool:
        """Re-read the next consensus key file if it changed; True when a new key was loaded."""

    def get_consensus_signers(self) -> tuple[Signer, ...]:
        """Return a signer for every consensus key held."""


@dataclass(slots=True)
class WatchedKeyFile:
    """A key file that may appear, or be replaced, while the node runs; read again only when it changed."""

    path: Path | None
    passphrase: str | None = None
    stamp: tuple[int, int, int] | None = None  # (inode, size, mtime_ns) of the last read attempt
    key: PrivateKey | None = None

    def poll(self) -> PrivateKey | None:
        """Return the key when the file appeared or changed since the last poll and reads cleanly, else None."""
        if self.path is None:
            return None
        try:
            status = os.stat(self.path)
        except OSError:
            return None  # not written yet: the usual case until the operator prepares a rotation
        stamp = (status.st_ino, status.st_size, status.st_mtime_ns)
        if stamp == self.stamp:
            return None
        self.stamp = stamp
        try:
            key = load_private_key(self.path, self.passphrase)
        except KeyFileError as error:
            # A half-written file changes stamp once complete and is read again then.
            log.error("next key file unreadable; it is read again when it changes", path=str(self.path),
                      error=str(error))
            return None
        if self.key is not None and key.seed == self.key.seed:
            return None
        self.key = key
        return key


class NodeKeyring:
    """Every consensus and network key this node holds: the configured ones and the next ones once written."""

    def __init__(self, consensus_key: PrivateKey, network_key: PrivateKey,
                 next_consensus_key_file: Path | None = None, next_network_key_file: Path | None = None,
                 passphrase: str | None = None) -> None:
        self.consensus_keys: list[PrivateKey] = [consensus_key]
        self.network_keys: list[PrivateKey] = [network_key]
        self.next_consensus = WatchedKeyFile(next_consensus_key_file, passphrase)
        self.next_network = WatchedKeyFile(next_network_key_file, passphrase)
        self.signers: dict[bytes, Signer] = {}
        self.logged_missing_network_key = b""  # the registered key we last complained about (log once each)
        self._add_consensus_key(consensus_key)
        self.poll_consensus_keys()  # a next key already on disk is held from the start
        self.poll_network_keys()

    @classmethod
    def from_keys_config(cls, keys: KeysConfig, consensus_key: PrivateKey, network_key: PrivateKey,
                         passphrase: str | None = None) -> NodeKeyring:
        """Build the keyring from a `[keys]` config section (next_* fields are optional)."""
        return cls(consensus_key, network_key, keys.next_consensus_key_file, keys.next_network_key_file, passphrase)

    # ---- consensus ------------------------------------------------------------------------------

    def _add_consensus_key(self, key: PrivateKey) -> bool:
        public_key = key.public_key().data
        if public_key in self.signers:
            return False
        self.signers[public_key] = Ed25519Signer(key)
        if key not in self.consensus_keys:
            self.consensus_keys.append(key)
        return True

    def poll_consensus_keys(self) -> bool:
        """Re-read the next consensus key file if it changed; True when a key not held before was loaded."""
        key = self.next_consensus.poll()
        if key is None or not self._add_consensus_key(key):
            return False
        log.info("next consensus key loaded: it signs from the first epoch whose set lists it",
                 public_key=key.public_key().data.hex(), path=str(self.next_consensus.path))
        return True

    def get_consensus_signers(self) -> tuple[Signer, ...]:
        """Return a signer for every consensus key held, the configured one first."""
        return tuple(self.signers.values())

    def get_consensus_public_keys(self) -> tuple[bytes, ...]:
        """Return the public keys of every consensus key held."""
        return tuple(self.signers)

    # ---- network --------------------------------------------------------------------------------

    def poll_network_keys(self) -> bool:
        """Re-read the next network key file if it changed; True when a key not held before was loaded."""
        key = self.next_network.poll()
        if key is None or any(key.seed == held.seed for held in self.network_keys):
            return False
        self.network_keys.append(key)
        log.info("next network key loaded: it is used from the first epoch whose set lists it",
                 public_key=key.public_key().data.hex(), path=str(self.next_network.path))
        return True

    def get_network_key_pair(self, validators: ValidatorSet, author: bytes) -> KeyPair | None:
        """Return the Noise key pair of the network key validators list for author (None: not listed or not held)."""
        self.poll_network_keys()
        member = validators.get_member(author)
        if member is None:
            return None
        for key in self.network_keys:
            if key.public_key().data == member.network_public_key:
                return make_network_key_pair(key)
        if self.logged_missing_network_key == member.network_public_key:
            return None
        self.logged_missing_network_key = member.network_public_key
        log.error("the validator set lists another network key for this node: peers will refuse it; write that "
                  "key to keys.next_network_key_file", registered_key=member.network_public_key.hex(),
                  held_keys=[key.public_key().data.hex() for key in self.network_keys])
        return None


class StaticKeyHolder(Protocol):
    """What follow_network_key switches (node.network.Network)."""

    def set_static_key(self, key_pair: KeyPair) -> bool:
        """Use key_pair for new handshakes and reconnect if it changed; True when it changed."""


def follow_network_key(keyring: NodeKeyring | None, network: StaticKeyHolder, validators: ValidatorSet,
                       author: bytes) -> bool:
    """At a new epoch (before Network.update_peers): switch to the network key the set lists for us, if held."""
    if keyring is None:
        return False
    key_pair = keyring.get_network_key_pair(validators, author)
    if key_pair is None or not network.set_static_key(key_pair):
        return False
    log.info("network key switched to the one the validator set lists; reconnecting",
             public_key=key_pair.public_key.hex())
    return True


def describe_missing_consensus_key(validators: ValidatorSet, author: bytes,
                                   held: Sequence[bytes]) -> dict[str, str | list[str]]:
    """Return log fields for an epoch whose set lists a consensus key for author that the node does not hold."""
    member = validators.get_member(author)
    registered = member.consensus_public_key.hex() if member is not None else ""
    return {"address": author.hex(), "registered_key": registered, "held_keys": [key.hex() for key in held]}
