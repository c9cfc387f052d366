"""Scenarios for AccountAdministrationScripts' key rotation: a leaked key is replaced by its holder, a lost one
through a recovery address; afterwards only the new key signs for the account, and its funds never move.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.framework import TESTNET_DD, TREASURY_COMPLIANCE, account
from contracts.transaction_builder import (
    compose_add_recovery_rotation_capability,
    compose_create_recovery_address,
    compose_rotate_authentication_key,
    compose_rotate_authentication_key_with_recovery_address,
)
from contracts.vm.status import StatusCode
from primitives.keys import PrivateKey
from tests.contracts.vm.helpers import DD_KEY, TC_KEY, create_child, create_parent, key_for, make_chain, p2p

DD = TESTNET_DD


@pytest.fixture()
def chain():
    return make_chain()


def get_auth_key(chain, address: bytes) -> bytes:
    return chain.ctx().borrow(account.ACCOUNT, address).authentication_key


def test_rotation_replaces_the_key_and_moves_no_funds(chain) -> None:
    old_key, alice = create_parent(chain, "alice")
    chain.run(chain.sign(DD_KEY, p2p(alice, 5_000), sender=DD))
    new_key = key_for("alice-new")
    out = chain.run(chain.sign(old_key, compose_rotate_authentication_key(new_key.public_key().auth_key())))
    rotation = out.transactions[1]
    assert rotation.status.is_executed()
    assert rotation.events == ()                                   # Diem's rotation emits no event
    assert get_auth_key(chain, alice) == new_key.public_key().auth_key()
    assert chain.balance(alice) == 5_000                           # same address, same funds


def test_after_rotation_only_the_new_key_signs(chain) -> None:
    old_key, alice = create_parent(chain, "alice")
    chain.run(chain.sign(DD_KEY, p2p(alice, 5_000), sender=DD))
    new_key = key_for("alice-new")
    chain.run(chain.sign(old_key, compose_rotate_authentication_key(new_key.public_key().auth_key())))
    with_old = chain.run(chain.sign(old_key, p2p(DD, 1), sender=alice))
    assert with_old.transactions[1].discard_status == StatusCode.INVALID_AUTH_KEY
    chain.seqs[alice] -= 1  # the discarded transaction did not use its sequence number
    with_new = chain.run(chain.sign(new_key, p2p(DD, 1_000), sender=alice))
    assert with_new.transactions[1].status.is_executed() and chain.balance(alice) == 4_000


@pytest.mark.parametrize("length", [0, 16, 31, 33])
def test_a_key_that_is_not_32_bytes_aborts_2055(chain, length: int) -> None:
    old_key, alice = create_parent(chain, "alice")
    out = chain.run(chain.sign(old_key, compose_rotate_authentication_key(b"\x07" * length)))
    status = out.transactions[1].status
    assert (status.location.split("::")[-1], status.abort_code) == ("DiemAccount", 2055)
    assert get_auth_key(chain, alice) == old_key.public_key().auth_key()


def test_with_nonce_records_the_nonce_and_refuses_its_reuse(chain) -> None:
    new_key = key_for("tc-new")
    first = chain.run(chain.sign(TC_KEY, compose_rotate_authentication_key(new_key.public_key().auth_key(), 7),
                                 sender=TREASURY_COMPLIANCE))
    assert first.transactions[1].status.is_executed()
    assert get_auth_key(chain, TREASURY_COMPLIANCE) == new_key.public_key().auth_key()
    again = chain.run(chain.sign(new_key, compose_rotate_authentication_key(TC_KEY.public_key().auth_key(), 7),
                                 sender=TREASURY_COMPLIANCE))
    status = again.transactions[1].status
    assert (status.location.split("::")[-1], status.abort_code) == ("SlidingNonce", 775)


def test_with_nonce_aborts_5_for_an_account_without_a_sliding_nonce(chain) -> None:
    old_key, _alice = create_parent(chain, "alice")
    out = chain.run(chain.sign(old_key, compose_rotate_authentication_key(bytes(32), 1)))
    status = out.transactions[1].status
    assert (status.location.split("::")[-1], status.abort_code) == ("SlidingNonce", 5)


@settings(max_examples=15, deadline=None)
@given(seeds=st.lists(st.binary(min_size=1, max_size=8), min_size=1, max_size=4, unique=True),
       amount=st.integers(min_value=1, max_value=10**9))
def test_property_a_chain_of_rotations_keeps_funds_and_only_the_latest_key_signs(seeds: list[bytes],
                                                                                 amount: int) -> None:
    chain = make_chain()
    current, alice = create_parent(chain, "alice")
    chain.run(chain.sign(DD_KEY, p2p(alice, amount), sender=DD))
    retired: list[PrivateKey] = []
    for seed in seeds:
        successor = PrivateKey.from_seed_material(b"next" + seed)
        chain.run(chain.sign(current, compose_rotate_authentication_key(successor.public_key().auth_key()),
                             sender=alice))
        retired.append(current)
        current = successor
        assert chain.balance(alice) == amount
    for old in retired:
        refused = chain.run(chain.sign(old, p2p(DD, 1), sender=alice, seq=chain.seqs[alice]))
        assert refused.transactions[1].discard_status == StatusCode.INVALID_AUTH_KEY
    assert chain.run(chain.sign(current, p2p(DD, 1), sender=alice)).transactions[1].status.is_executed()


def abort_of(out) -> tuple[str, int]:
    status = out.transactions[1].status
    return status.location.split("::")[-1], status.abort_code


def test_a_lost_key_is_replaced_through_a_recovery_address_of_the_same_vasp(chain) -> None:
    parent_key, parent = create_parent(chain, "vasp")
    chain.run(chain.sign(DD_KEY, p2p(parent, 1_000), sender=DD))
    child_key, child = create_child(chain, parent_key, "teller", balance=700)
    assert chain.run(chain.sign(parent_key, compose_create_recovery_address())).transactions[1].status.is_executed()
    delegate = chain.run(chain.sign(child_key, compose_add_recovery_rotation_capability(parent)))
    assert delegate.transactions[1].status.is_executed()
    assert chain.ctx().borrow(account.ACCOUNT, child).key_rotation_capability is None
    # The teller's key is lost: the recovery account replaces it, and the funds stay where they were.
    replacement = key_for("teller-new")
    recover = compose_rotate_authentication_key_with_recovery_address(parent, child,
                                                                     replacement.public_key().auth_key())
    out = chain.run(chain.sign(parent_key, recover))
    assert out.transactions[1].status.is_executed() and out.transactions[1].events == ()
    assert get_auth_key(chain, child) == replacement.public_key().auth_key() and chain.balance(child) == 700
    assert chain.run(chain.sign(replacement, p2p(parent, 100), sender=child)).transactions[1].status.is_executed()


def test_recovery_address_aborts(chain) -> None:
    parent_key, parent = create_parent(chain, "vasp")
    other_key, _other = create_parent(chain, "other")
    child_key, child = create_child(chain, parent_key, "teller")
    assert abort_of(chain.run(chain.sign(child_key, compose_add_recovery_rotation_capability(parent)))) == (
        "RecoveryAddress", 1285)                                 # ERECOVERY_ADDRESS not published
    chain.run(chain.sign(parent_key, compose_create_recovery_address()))
    assert abort_of(chain.run(chain.sign(parent_key, compose_create_recovery_address()))) == ("DiemAccount", 2305)
    assert abort_of(chain.run(chain.sign(parent_key, compose_rotate_authentication_key(bytes(32))))) == (
        "DiemAccount", 2305)                                     # its capability now lives in the resource
    assert abort_of(chain.run(chain.sign(other_key, compose_add_recovery_rotation_capability(parent)))) == (
        "RecoveryAddress", 775)                                  # another VASP cannot delegate here
    stranger = compose_rotate_authentication_key_with_recovery_address(parent, child, bytes(32))
    assert abort_of(chain.run(chain.sign(other_key, stranger))) == ("RecoveryAddress", 519)
    assert abort_of(chain.run(chain.sign(child_key, stranger))) == ("RecoveryAddress", 1031)  # not delegated
    assert get_auth_key(chain, child) == child_key.public_key().auth_key()


def test_only_vasps_become_recovery_addresses(chain) -> None:
    out = chain.run(chain.sign(DD_KEY, compose_create_recovery_address(), sender=DD))
    assert abort_of(out) == ("RecoveryAddress", 7)               # ENOT_A_VASP
