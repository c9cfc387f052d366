"""The remaining abort codes of diem-compat §4.3-4.8, each triggered once, and account-creation counters."""

from __future__ import annotations

import pytest

from contracts.framework import TESTNET_DD, TREASURY_COMPLIANCE, account, diem_id, dual_attestation, roles, vasp
from contracts.genesis import DealerConfig, GenesisConfig, CurrencyConfig, build_genesis
from contracts.vm import hooks
from contracts.vm.status import StatusCode
from contracts.vm.storage import BlockState, InMemoryStateView
from primitives.types.type_tags import currency_type_tag
from tests.contracts.vm.helpers import (
    DD_KEY, DR_KEY, TC_KEY, XUS, Chain, boolean, create_child, create_parent, key_for, make_chain, p2p,
    script_function, u64, vec, xus,
)

DD = TESTNET_DD


def abort_of(out) -> tuple[str, int]:
    status = out.transactions[1].status
    return status.location.split("::")[-1], status.abort_code


def edit_state(chain: Chain, edit) -> None:
    """Apply a direct state edit (test set-up that no script can do) through a committed context."""
    ctx = chain.ctx()
    edit(ctx)
    changes, encoded = ctx.finish()
    ctx.block.commit(changes, encoded)
    chain.state.apply(ctx.block.get_write_set())


@pytest.fixture()
def chain():
    return make_chain()


def test_extracted_withdraw_capability_aborts_1793(chain) -> None:
    key, alice = create_parent(chain, "alice")
    chain.run(chain.sign(DD_KEY, p2p(alice, 100), sender=DD))
    edit_state(chain, lambda ctx: setattr(ctx.borrow_mut(account._W, account.ACCOUNT, alice), "withdraw_capability", None))
    assert abort_of(chain.run(chain.sign(key, p2p(DD, 5)))) == ("DiemAccount", 1793)


def freeze(chain: Chain, address: bytes) -> None:
    payload = script_function("TreasuryComplianceScripts", "freeze_account", [u64(0), address])
    out = chain.run(chain.sign(TC_KEY, payload, sender=TREASURY_COMPLIANCE))
    assert out.transactions[1].status.is_executed()


@pytest.mark.skipif(hooks.get_module("treasury_scripts") is None, reason="compliance freezing not present")
def test_frozen_payee_aborts_and_frozen_sender_is_discarded(chain) -> None:
    key, alice = create_parent(chain, "alice")
    chain.run(chain.sign(DD_KEY, p2p(alice, 100), sender=DD))
    freeze(chain, alice)
    assert abort_of(chain.run(chain.sign(DD_KEY, p2p(alice, 5), sender=DD))) == ("AccountFreezing", 1281)
    out = chain.run(chain.sign(key, p2p(DD, 5)))
    assert out.transactions[1].discard_status == StatusCode.SENDING_ACCOUNT_FROZEN


@pytest.mark.skipif(hooks.get_module("treasury_scripts") is None, reason="compliance freezing not present")
def test_frozen_payer_aborts_1281_in_withdraw(chain) -> None:
    _, alice = create_parent(chain, "alice")
    chain.run(chain.sign(DD_KEY, p2p(alice, 100), sender=DD))
    freeze(chain, alice)
    ctx = chain.ctx()
    from contracts.vm.structs import vm_signer
    with pytest.raises(Exception) as info:
        account.withdraw_from(ctx, vm_signer(alice), DD, XUS, 5, b"")
    assert (info.value.location.endswith("AccountFreezing"), info.value.code) == (True, 1281)


def test_limit_hooks_refusing_abort_1544_and_776(chain, monkeypatch) -> None:
    key, alice = create_parent(chain, "alice")
    chain.run(chain.sign(DD_KEY, p2p(alice, 100), sender=DD))
    monkeypatch.setattr(hooks, "process_withdraw", lambda *args: False)
    assert abort_of(chain.run(chain.sign(key, p2p(DD, 5)))) == ("DiemAccount", 1544)
    monkeypatch.setattr(hooks, "process_withdraw", lambda *args: True)
    monkeypatch.setattr(hooks, "process_deposit", lambda *args: False)
    assert abort_of(chain.run(chain.sign(key, p2p(DD, 5)))) == ("DiemAccount", 776)


def test_missing_credential_aborts_5_and_missing_base_url_1537(chain) -> None:
    alice_key, alice = create_parent(chain, "alice")
    bob_key, bob = create_parent(chain, "bob")
    chain.run(chain.sign(DD_KEY, p2p(alice, 10**10), sender=DD))
    compliance = key_for("bob-c").public_key().data
    rotate = script_function("AccountAdministrationScripts", "rotate_dual_attestation_info",
                             [vec(b""), vec(compliance)])
    assert chain.run(chain.sign(bob_key, rotate)).transactions[1].status.is_executed()
    assert abort_of(chain.run(chain.sign(alice_key, p2p(bob, 10**9, b"m", bytes(64))))) == ("DualAttestation", 1537)
    edit_state(chain, lambda ctx: ctx.move_from(dual_attestation._W, dual_attestation.CREDENTIAL, bob))
    assert abort_of(chain.run(chain.sign(alice_key, p2p(bob, 10**9, b"m", bytes(64))))) == ("DualAttestation", 5)


def test_same_vasp_payments_need_no_attestation(chain) -> None:
    parent_key, parent = create_parent(chain, "alice")
    chain.run(chain.sign(DD_KEY, p2p(parent, 10**10), sender=DD))
    _, child = create_child(chain, parent_key, "alice-1")
    assert chain.run(chain.sign(parent_key, p2p(child, 10**9))).transactions[1].status.is_executed()


def test_too_many_children_aborts_264(chain, monkeypatch) -> None:
    parent_key, _ = create_parent(chain, "alice")
    monkeypatch.setattr(vasp, "MAX_CHILD_ACCOUNTS", 1)
    create_child(chain, parent_key, "alice-1")
    payload = script_function("AccountCreationScripts", "create_child_vasp_account",
                              [key_for("alice-2").public_key().address(), vec(bytes(16)), boolean(False), u64(0)],
                              xus())
    assert abort_of(chain.run(chain.sign(parent_key, payload))) == ("VASP", 264)


def test_unregistered_currency_aborts_261() -> None:
    config = GenesisConfig(DR_KEY.public_key().data, TC_KEY.public_key().data, currencies=(CurrencyConfig("XUS", pays_fees=True),),
                           dealers=(DealerConfig(DD, DD_KEY.public_key().data, initial_balance=10**9),))
    chain = Chain(InMemoryStateView(build_genesis(config).write_set), seqs={TREASURY_COMPLIANCE: 0})
    key = key_for("carol")
    payload = script_function("AccountCreationScripts", "create_parent_vasp_account",
                              [u64(0), key.public_key().address(), vec(bytes(16)), vec(b"c"), boolean(False)],
                              (currency_type_tag("XDX"),))
    out = chain.run(chain.sign(TC_KEY, payload, sender=TREASURY_COMPLIANCE, gas_currency="XUS"))
    assert abort_of(out) == ("Diem", 261)


def test_existing_account_and_missing_tc_role(chain) -> None:
    payload = script_function("AccountCreationScripts", "create_parent_vasp_account",
                              [u64(0), DD, vec(bytes(16)), vec(b"x"), boolean(False)], xus())
    assert abort_of(chain.run(chain.sign(TC_KEY, payload, sender=TREASURY_COMPLIANCE))) == ("Roles", 6)
    edit_state(chain, lambda ctx: ctx.move_from(roles._W, roles.ROLE_ID, TREASURY_COMPLIANCE))
    payload = script_function("AccountCreationScripts", "create_parent_vasp_account",
                              [u64(0), b"\x31" * 16, vec(bytes(16)), vec(b"x"), boolean(False)], xus())
    assert abort_of(chain.run(chain.sign(TC_KEY, payload, sender=TREASURY_COMPLIANCE))) == ("Roles", 515)


def test_missing_domain_manager_aborts_261(chain) -> None:
    _, alice = create_parent(chain, "alice")
    edit_state(chain, lambda ctx: ctx.move_from(diem_id._W, diem_id.MANAGER, TREASURY_COMPLIANCE))
    payload = script_function("TreasuryComplianceScripts", "add_diem_id_domain", [alice, vec(b"alice")])
    assert abort_of(chain.run(chain.sign(TC_KEY, payload, sender=TREASURY_COMPLIANCE))) == ("DiemId", 261)


def test_designated_dealer_creation_counters_and_event(chain) -> None:
    address = b"\x44" * 16
    payload = script_function("AccountCreationScripts", "create_designated_dealer",
                              [u64(0), address, vec(bytes(16)), vec(b"dd2"), boolean(False)], xus())
    out = chain.run(chain.sign(TC_KEY, payload, sender=TREASURY_COMPLIANCE))
    (event,) = out.transactions[1].events
    assert event.event_data == address + u64(roles.ROLE_DESIGNATED_DEALER)
    ctx = chain.ctx()
    acct = ctx.borrow(account.ACCOUNT, address)
    assert acct.received_events.guid[:8] == (3).to_bytes(8, "little")
    assert acct.sent_events.guid[:8] == (4).to_bytes(8, "little")
    credential = ctx.borrow(dual_attestation.CREDENTIAL, address)
    assert credential.compliance_key_rotation_events.guid[:8] == (1).to_bytes(8, "little")
    assert account.get_balance(ctx, address, XUS) == 0


def test_validate_transaction_accepts_future_sequence_numbers(chain) -> None:
    from contracts.executor import validate_transaction
    txn = chain.sign(DD_KEY, p2p(DD, 1), sender=DD, seq=5)
    assert validate_transaction(chain.state, txn, chain.time_us) == StatusCode.ACCEPTED
    stale = chain.sign(DD_KEY, p2p(DD, 1), sender=DD, seq=0)
    chain.run(chain.sign(DD_KEY, p2p(DD, 1), sender=DD, seq=0))
    assert validate_transaction(chain.state, stale, chain.time_us) == StatusCode.SEQUENCE_NUMBER_TOO_OLD
    forged = chain.sign(TC_KEY, p2p(DD, 1), sender=DD, seq=1)
    assert validate_transaction(chain.state, forged, chain.time_us) == StatusCode.INVALID_AUTH_KEY
    from primitives.types.transactions import SignedTransaction, TransactionAuthenticator
    bad_sig = SignedTransaction(txn.raw_txn, TransactionAuthenticator.ed25519(DD_KEY.public_key().data, bytes(64)))
    assert validate_transaction(chain.state, bad_sig, chain.time_us) == StatusCode.INVALID_SIGNATURE


def test_domain_scripts_require_treasury_compliance(chain) -> None:
    _, alice = create_parent(chain, "alice")
    for function in ("add_diem_id_domain", "remove_diem_id_domain"):
        payload = script_function("TreasuryComplianceScripts", function, [alice, vec(b"alice")])
        assert abort_of(chain.run(chain.sign(DD_KEY, payload, sender=DD))) == ("CoreAddresses", 258)


def test_parent_creation_rejects_reserved_addresses_and_bad_prefix(chain) -> None:
    cases = ((bytes(16), bytes(16), 2567), (b"\x00" * 15 + b"\x01", bytes(16), 6151), (b"\x57" * 16, bytes(3), 2055))
    for address, prefix, code in cases:
        payload = script_function("AccountCreationScripts", "create_parent_vasp_account",
                                  [u64(0), address, vec(prefix), vec(b"x"), boolean(False)], xus())
        assert abort_of(chain.run(chain.sign(TC_KEY, payload, sender=TREASURY_COMPLIANCE))) == ("DiemAccount", code)
