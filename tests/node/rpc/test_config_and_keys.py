"""Node configuration and key files: valid files load, every mistake gets a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.config import ConfigError, load_config
from node.keys.files import KeyFileError, load_private_key, save_private_key
from primitives.keyfile import KdfParameters, WrongPassphrase, decrypt_secret, encrypt_secret
from primitives.keys import PrivateKey

import nacl.pwhash

FAST_KDF = KdfParameters(nacl.pwhash.argon2id.OPSLIMIT_MIN, nacl.pwhash.argon2id.MEMLIMIT_MIN)
PEER_KEY = "5ce7d54a8054be74ed7d90b6b5447442a12026696de1af6515fb109c0c3ee4d2"

VALID_TOML = f"""
chain_id = 2
data_dir = "data"
genesis_file = "genesis.bcs"

[keys]
consensus_key_file = "keys/consensus.key"
network_key_file = "keys/network.key"

[network]
listen_port = 6181
peers = [{{ address = "E52999D653B418B73C002E3E43BC7CA9", port = 6182, network_public_key = "{PEER_KEY}" }}]

[rpc]
listen_port = 8081
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "node.toml"
    path.write_text(text)
    return path


def test_a_valid_file_loads_with_paths_resolved_against_its_folder(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, VALID_TOML))
    assert config.chain_id == 2
    assert config.data_dir == (tmp_path / "data").resolve()
    assert config.keys.consensus_key_file == (tmp_path / "keys/consensus.key").resolve()
    assert config.network.peers[0].address == "e52999d653b418b73c002e3e43bc7ca9"
    assert config.rpc.listen_port == 8081 and config.rpc.batch_size_max == 20


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STABLECHAIN_RPC__LISTEN_PORT", "9090")
    assert load_config(write(tmp_path, VALID_TOML)).rpc.listen_port == 9090


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("listen_port = 8081", "listen_port = 70000"), "rpc.listen_port"),
        (("chain_id = 2", "chain_id = 2\nchian = 3"), "chian"),
        (("address = \"E52999D653B418B73C002E3E43BC7CA9\"", "address = \"zz\""), "network.peers.0.address"),
        (("[keys]\nconsensus_key_file = \"keys/consensus.key\"\n", "[keys]\n"), "keys.consensus_key_file"),
        # [NET-4] a frame cap below the node's own largest message (a catch-up response, a full block)
        (("listen_port = 6181", "listen_port = 6181\nframe_bytes_max = 8388608"), "network.frame_bytes_max"),
    ],
)
def test_mistakes_are_reported_with_the_field_path(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    text = VALID_TOML.replace(*change)
    assert text != VALID_TOML
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert expected in str(caught.value)


def test_missing_and_unparsable_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.toml")
    with pytest.raises(ConfigError):
        load_config(write(tmp_path, "this is [ not toml"))


def test_an_encrypted_secret_opens_only_with_its_passphrase() -> None:
    sealed = encrypt_secret(b"s" * 32, "correct horse", b"\x01" * 16, b"\x02" * 24, FAST_KDF)
    assert decrypt_secret(sealed, "correct horse") == b"s" * 32
    with pytest.raises(WrongPassphrase):
        decrypt_secret(sealed, "wrong horse")


def test_key_files_round_trip_plain_and_encrypted(tmp_path: Path) -> None:
    key = PrivateKey.from_seed_material(b"validator-0")
    save_private_key(tmp_path / "plain.key", key)
    assert load_private_key(tmp_path / "plain.key") == key
    assert (tmp_path / "plain.key").stat().st_mode & 0o777 == 0o600
    save_private_key(tmp_path / "sealed.key", key, passphrase="pw")
    assert load_private_key(tmp_path / "sealed.key", "pw") == key
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        load_private_key(tmp_path / "sealed.key", "nope")
    with pytest.raises(KeyFileError, match="passphrase is required"):
        load_private_key(tmp_path / "sealed.key")


def test_broken_key_files_get_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.key").write_text("not hex at all")
    with pytest.raises(KeyFileError, match="not a hex ed25519 private key"):
        load_private_key(tmp_path / "bad.key")
    (tmp_path / "bad.json").write_text('{"version": 1}')
    with pytest.raises(KeyFileError, match="not a stablechain key file"):
        load_private_key(tmp_path / "bad.json", "pw")
    with pytest.raises(KeyFileError, match="cannot read"):
        load_private_key(tmp_path / "missing.key")
