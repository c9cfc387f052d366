"""The node keyring: next-key files that appear while the node runs, and the network key the set lists for us."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import nacl.bindings
import pytest

from node.keys.files import save_private_key
from node.keys.ring import NodeKeyring, WatchedKeyFile, follow_network_key
from node.network import KeyPair, Network, PeerInfo, TransportConfig
from node.network.noise import make_network_key_pair
from primitives.certified.validators import ValidatorInfo, ValidatorSet
from primitives.keys import PrivateKey

ADDRESS = b"\x0a" * 16
OTHER = b"\x0b" * 16
CONSENSUS = PrivateKey.from_seed_material(b"keyring-consensus")
NEXT_CONSENSUS = PrivateKey.from_seed_material(b"keyring-next-consensus")
NETWORK = PrivateKey.from_seed_material(b"keyring-network")
NEXT_NETWORK = PrivateKey.from_seed_material(b"keyring-next-network")
OTHER_KEY = PrivateKey.from_seed_material(b"keyring-other")


def make_set(consensus: PrivateKey, network: PrivateKey) -> ValidatorSet:
    """Our entry with the given keys, and one other validator."""
    return ValidatorSet.create([
        ValidatorInfo(ADDRESS, consensus.public_key().data, network.public_key().data, 1),
        ValidatorInfo(OTHER, OTHER_KEY.public_key().data, OTHER_KEY.public_key().data, 1),
    ])


def bump(path: Path) -> None:
    """Make a rewritten file's stamp differ even within one clock tick."""
    status = os.stat(path)
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000))


def test_a_watched_file_is_read_once_when_it_appears_and_again_only_when_it_changes(tmp_path: Path):
    path = tmp_path / "next.key"
    watched = WatchedKeyFile(path)
    assert watched.poll() is None  # not written yet
    save_private_key(path, NEXT_CONSENSUS)
    assert watched.poll() == NEXT_CONSENSUS
    assert watched.poll() is None  # unchanged: not read again
    path.write_text("not a key\n")
    bump(path)
    assert watched.poll() is None  # unreadable (e.g. half written): logged, the node goes on
    save_private_key(path, OTHER_KEY)
    bump(path)
    assert watched.poll() == OTHER_KEY


def test_an_encrypted_next_key_file_is_read_with_the_passphrase(tmp_path: Path):
    path = tmp_path / "next.key"
    save_private_key(path, NEXT_CONSENSUS, passphrase="correct horse")
    assert WatchedKeyFile(path, "correct horse").poll() == NEXT_CONSENSUS
    assert WatchedKeyFile(path, "wrong").poll() is None


def test_the_keyring_holds_the_next_consensus_key_once_its_file_appears(tmp_path: Path):
    path = tmp_path / "next-consensus.key"
    keyring = NodeKeyring(CONSENSUS, NETWORK, next_consensus_key_file=path)
    assert keyring.get_consensus_public_keys() == (CONSENSUS.public_key().data,)
    assert not keyring.poll_consensus_keys()
    save_private_key(path, NEXT_CONSENSUS)
    assert keyring.poll_consensus_keys() and not keyring.poll_consensus_keys()
    assert keyring.get_consensus_public_keys() == (CONSENSUS.public_key().data, NEXT_CONSENSUS.public_key().data)
    assert [signer.get_public_key() for signer in keyring.get_consensus_signers()] == list(keyring.get_consensus_public_keys())
    # A next file that already exists at start is held from the start.
    assert NodeKeyring(CONSENSUS, NETWORK, next_consensus_key_file=path).get_consensus_public_keys()[1:] == (
        NEXT_CONSENSUS.public_key().data,)


def test_the_network_key_pair_is_the_one_the_set_lists_for_us(tmp_path: Path):
    path = tmp_path / "next-network.key"
    keyring = NodeKeyring(CONSENSUS, NETWORK, next_network_key_file=path)
    assert keyring.get_network_key_pair(make_set(CONSENSUS, NETWORK), ADDRESS) == make_network_key_pair(NETWORK)
    assert keyring.get_network_key_pair(make_set(CONSENSUS, NEXT_NETWORK), ADDRESS) is None  # not held yet
    save_private_key(path, NEXT_NETWORK)
    expected = make_network_key_pair(NEXT_NETWORK)
    assert keyring.get_network_key_pair(make_set(CONSENSUS, NEXT_NETWORK), ADDRESS) == expected
    assert expected.public_key == nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(NEXT_NETWORK.public_key().data)
    assert keyring.get_network_key_pair(make_set(CONSENSUS, NEXT_NETWORK), b"\x0c" * 16) is None  # not a member


class FakeNetwork:
    def __init__(self, key_pair: KeyPair) -> None:
        self.key_pair = key_pair
        self.switches = 0

    def set_static_key(self, key_pair: KeyPair) -> bool:
        if key_pair == self.key_pair:
            return False
        self.key_pair, self.switches = key_pair, self.switches + 1
        return True


def test_follow_network_key_switches_only_when_the_set_lists_a_held_key_we_do_not_use(tmp_path: Path):
    path = tmp_path / "next-network.key"
    save_private_key(path, NEXT_NETWORK)
    keyring = NodeKeyring(CONSENSUS, NETWORK, next_network_key_file=path)
    network = FakeNetwork(make_network_key_pair(NETWORK))
    assert not follow_network_key(keyring, network, make_set(CONSENSUS, NETWORK), ADDRESS)  # same epoch key
    assert not follow_network_key(keyring, network, make_set(CONSENSUS, OTHER_KEY), ADDRESS)  # not held: keep ours
    assert not follow_network_key(None, network, make_set(CONSENSUS, NEXT_NETWORK), ADDRESS)  # no keyring
    assert follow_network_key(keyring, network, make_set(CONSENSUS, NEXT_NETWORK), ADDRESS)
    assert network.key_pair == make_network_key_pair(NEXT_NETWORK) and network.switches == 1


@pytest.mark.timeout(30)
async def test_a_real_network_follows_the_set_to_the_next_key_and_its_peer_accepts_it(tmp_path: Path):
    """Two Network instances on 127.0.0.1: the set's change of our network key carries the connection over."""
    path = tmp_path / "next-network.key"
    save_private_key(path, NEXT_NETWORK)
    keyring = NodeKeyring(CONSENSUS, NETWORK, next_network_key_file=path)
    ours = Network(TransportConfig(ADDRESS, make_network_key_pair(NETWORK)))
    theirs = Network(TransportConfig(OTHER, make_network_key_pair(OTHER_KEY)))
    try:
        await ours.start()
        await theirs.start()

        def peers(validators: ValidatorSet) -> list[PeerInfo]:
            ports = {ADDRESS: ours.listen_port, OTHER: theirs.listen_port}
            return [PeerInfo(member.address, nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(
                member.network_public_key), "127.0.0.1", ports[member.address]) for member in validators.members]

        for validators in (make_set(CONSENSUS, NETWORK), make_set(NEXT_CONSENSUS, NEXT_NETWORK)):
            follow_network_key(keyring, ours, validators, ADDRESS)  # what the service does at each epoch
            ours.update_peers(peers(validators))
            theirs.update_peers(peers(validators))
            async with asyncio.timeout(10):
                await ours.wait_connected([OTHER])
                await theirs.wait_connected([ADDRESS])
            assert theirs.send(ADDRESS, b"epoch")
            async with asyncio.timeout(10):
                assert await ours.inbound.get() == (OTHER, b"epoch")
        assert ours.config.key_pair == make_network_key_pair(NEXT_NETWORK)
    finally:
        await ours.close()
        await theirs.close()
