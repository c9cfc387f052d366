"""The transaction builder signs exactly what the Diem SDK signs (diem-compat §3.8)."""

from __future__ import annotations

from primitives.keys import PrivateKey
from primitives.types.transactions import SignedTransaction
from wallet.builder import Account, compose_create_parent_vasp, compose_peer_to_peer

SENDER = Account(PrivateKey.from_hex("09f8046e0acf1f76b3b65d72faa56f7f219412868727705caf2ab1f1d865ba8c"))
RECEIVER = bytes.fromhex("47e71f8d3c713fd25766b7eff1385500")
METADATA = bytes.fromhex("0100010801020304050607080000")


def test_the_worked_payment_is_reproduced_byte_for_byte() -> None:
    signed = SENDER.sign(compose_peer_to_peer(RECEIVER, 1_234_567, metadata=METADATA), 7, 1_900_000_000)
    assert SENDER.address.hex() == "e52999d653b418b73c002e3e43bc7ca9"
    assert signed.hash().hex() == "268d017c6102d2026a09ec08dcbc9e30db67c760d9d9d9e53c7df0b2c4bf4ba3"
    assert signed.is_signature_valid()
    assert SignedTransaction.from_bcs(signed.to_bcs()) == signed


def test_account_creation_payload_carries_the_auth_key_prefix() -> None:
    child = Account(PrivateKey.from_seed_material(b"child"))
    payload = compose_create_parent_vasp(child.address, child.auth_key_prefix, b"VASP 1")
    function = payload.value
    assert (function.module.name, function.function) == ("AccountCreationScripts", "create_parent_vasp_account")
    assert function.args[1] == child.address
    assert function.args[2] == bytes([16]) + child.auth_key[:16]
    assert child.auth_key[16:] == child.address
