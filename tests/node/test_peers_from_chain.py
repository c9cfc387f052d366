"""Where a node dials: each validator at the address its on-chain config lists (a config entry only stands in for a
member without one), and, outside the set, the config's seeds too; configs refuse malformed seeds and roles."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.config import ConfigError, load_config
from node.network.noise import compute_network_public_key
from node.network.peers import compute_full_node_id
from node.service.assembly import make_peers
from primitives.certified.validators import ValidatorInfo, ValidatorSet
from primitives.keys import PrivateKey
from primitives.network_address import NetworkAddress, parse_network_address

KEYS = [PrivateKey(bytes([index + 1]) * 32).public_key().data for index in range(4)]
ADDRESSES = [bytes([index + 1]) * 16 for index in range(3)]
SEED_KEY = PrivateKey(b"\x09" * 32).public_key().data


def write_config(tmp_path: Path, body: str) -> Path:
    """Write a node.toml with the given extra lines and return its path."""
    path = tmp_path / "node.toml"
    path.write_text(f'data_dir = "data"\ngenesis_file = "genesis.json"\n{body}')
    return path


def make_set(addresses: list[tuple[bytes, ...]]) -> ValidatorSet:
    """Return a set of three validators with the given on-chain addresses."""
    return ValidatorSet.create([ValidatorInfo(ADDRESSES[i], KEYS[i], KEYS[i], 1, addresses[i]) for i in range(3)])


def test_members_are_dialled_at_their_on_chain_address_and_a_config_entry_only_stands_in(tmp_path: Path) -> None:
    peer_line = (f'[network]\npeers = [{{ address = "{ADDRESSES[2].hex()}", host = "10.0.0.3", port = 7003, '
                 f'network_public_key = "{KEYS[2].hex()}" }}, {{ address = "{ADDRESSES[1].hex()}", '
                 f'host = "10.9.9.9", port = 9999, network_public_key = "{KEYS[1].hex()}" }}]\n')
    config = load_config(write_config(tmp_path, f'role = "full"\n[keys]\nnetwork_key_file = "n.key"\n{peer_line}'))
    validators = make_set([(b"198.18.0.1:6180",), (b"198.18.0.2:6180", b"backup.example:6181"), ()])

    peers = {peer.peer_id: peer for peer in make_peers(config, validators, ADDRESSES[0])}

    assert set(peers) == {ADDRESSES[1], ADDRESSES[2]}, "not ourselves"
    assert (peers[ADDRESSES[1]].host, peers[ADDRESSES[1]].port) == ("198.18.0.2", 6180), "the chain wins"
    assert (peers[ADDRESSES[2]].host, peers[ADDRESSES[2]].port) == ("10.0.0.3", 7003), "config stands in"
    assert peers[ADDRESSES[1]].network_public_key == compute_network_public_key(KEYS[1]), "the set's key is pinned"


def test_a_follower_also_dials_its_seeds_once_each(tmp_path: Path) -> None:
    seeds = f'"{SEED_KEY.hex()}@198.18.0.9:6180", "{KEYS[0].hex()}@198.18.0.1:6180"'
    config = load_config(write_config(tmp_path, f'role = "full"\n[keys]\nnetwork_key_file = "n.key"\n'
                                                f'[network]\nseeds = [{seeds}]\n'))
    validators = make_set([(b"198.18.0.1:6180",), (b"198.18.0.2:6180",), (b"198.18.0.3:6180",)])

    member_view = make_peers(config, validators, b"\x77" * 16)
    follower_view = make_peers(config, validators, b"\x77" * 16, is_follower=True)

    assert len(member_view) == 3
    seed_key = compute_network_public_key(SEED_KEY)
    extra = [peer for peer in follower_view if peer not in member_view]
    assert [(peer.peer_id, peer.host) for peer in extra] == [(compute_full_node_id(seed_key), "198.18.0.9")], (
        "the seed that is a validator already is not dialled twice")


@pytest.mark.parametrize(("body", "message"), [
    ('[keys]\nnetwork_key_file = "n.key"\n', "a validator needs keys.consensus_key_file"),
    ('role = "full"\n[keys]\nnetwork_key_file = "n.key"\n[network]\nseeds = ["nokey@198.18.0.1:6180"]\n',
     "is not NETWORK_PUBLIC_KEY@HOST:PORT"),
    ('role = "observer"\n[keys]\nnetwork_key_file = "n.key"\n', "role"),
    ('waypoint = "abc"\n[keys]\nconsensus_key_file = "c.key"\nnetwork_key_file = "n.key"\n', "waypoint"),
    ('[keys]\nconsensus_key_file = "c.key"\nnetwork_key_file = "n.key"\n[log]\nformat = "xml"\n', "log.format"),
])
def test_a_config_with_a_bad_role_seed_waypoint_or_log_format_is_refused(tmp_path: Path, body: str,
                                                                        message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write_config(tmp_path, body))


@pytest.mark.parametrize(("text", "expected"), [
    ("198.18.0.1:6180", NetworkAddress("198.18.0.1", 6180)),
    ("validator-1.example.org:443", NetworkAddress("validator-1.example.org", 443)),
    ("[2001:db8::1]:6180", NetworkAddress("2001:db8::1", 6180)),
    ("198.18.0.1", None), ("198.18.0.1:0", None), ("host:65536", None), (":6180", None), ("a b:1", None),
    ("tcp://host:1", None), ("-bad.example:1", None),
])
def test_network_addresses_are_host_and_port_only(text: str, expected: NetworkAddress | None) -> None:
    assert parse_network_address(text) == expected
    if expected is not None:
        assert expected.encode() == text.encode(), "an address reads back as it was written"
