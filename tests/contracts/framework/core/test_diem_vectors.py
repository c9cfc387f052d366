"""The SDK-generated transactions of shared/vectors run end to end (legacy scripts by code hash included)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.framework import TESTNET_DD, TREASURY_COMPLIANCE
from contracts.scripts import get_script_name
from contracts.vm.status import StatusCode
from primitives.types.transactions import SignedTransaction
from tests.contracts.vm.helpers import DD_KEY, TC_KEY, boolean, make_chain, p2p, script_function, u64, vec, xus

# The repository's copy of ../shared/vectors/diem_vectors.json (byte-identical), so CI never skips this.
VECTORS = Path(__file__).resolve().parents[3] / "primitives" / "data" / "diem_vectors.json"


def load() -> tuple[list[dict], dict[str, SignedTransaction]]:
    data = json.loads(VECTORS.read_text())
    txns = {t["name"]: SignedTransaction.from_bcs(bytes.fromhex(t["signed_bcs"])) for t in data["transactions"]}
    return data["accounts"], txns


def set_recipient_compliance_key(chain, receiver_account: dict) -> None:
    """The travel-rule vector was signed by this compliance key: rotate to it (receiver's seq 1)."""
    from primitives.keys import PrivateKey
    data = json.loads(VECTORS.read_text())
    travel = next(m for m in data["metadata"] if "recipient_compliance_public_key" in m)
    key = PrivateKey.from_hex(receiver_account["private_key"])
    payload = script_function("AccountAdministrationScripts", "rotate_dual_attestation_info",
                              [vec(b"http://127.0.0.1:9000"), vec(bytes.fromhex(travel["recipient_compliance_public_key"]))])
    out = chain.run(chain.sign(key, payload, seq=1, gas_currency="XDX"))
    assert out.transactions[1].status.is_executed()


def create_parent_with_auth_key(chain, account: dict, name: bytes) -> bytes:
    address = bytes.fromhex(account["address"])
    prefix = bytes.fromhex(account["auth_key"])[:16]
    payload = script_function("AccountCreationScripts", "create_parent_vasp_account",
                              [u64(0), address, vec(prefix), vec(name), boolean(False)], xus())
    out = chain.run(chain.sign(TC_KEY, payload, sender=TREASURY_COMPLIANCE))
    assert out.transactions[1].status.is_executed()
    return address


def test_sdk_transactions_execute_in_order() -> None:
    accounts, txns = load()
    chain = make_chain()
    sender = create_parent_with_auth_key(chain, accounts[0], b"sender")
    receiver = create_parent_with_auth_key(chain, accounts[1], b"receiver")
    chain.run(chain.sign(DD_KEY, p2p(sender, 5 * 10**9), sender=TESTNET_DD))

    rotate = txns["rotate dual attestation info (legacy script)"]
    assert get_script_name(rotate.raw_txn.payload.value.code) == "rotate_dual_attestation_info"
    assert chain.run(rotate).transactions[1].status.is_executed()
    set_recipient_compliance_key(chain, accounts[1])

    expected_received = 0
    for name, amount in (("p2p script function", 1234567), ("p2p legacy script", 1234567),
                         ("p2p with general metadata", 5),
                         ("p2p travel rule with recipient signature", 10**9)):
        out = chain.run(txns[name])
        assert out.transactions[1].status.is_executed(), (name, out.transactions[1].status)
        expected_received += amount
        assert chain.balance(receiver) == expected_received
    out = chain.run(txns["create child vasp"])
    assert out.transactions[1].status.is_executed()
    out = chain.run(txns["p2p chain id 4, gas in XUS at price 1"])
    assert out.transactions[1].discard_status == StatusCode.BAD_CHAIN_ID


def test_travel_rule_payment_with_wrong_amount_is_rejected() -> None:
    accounts, txns = load()
    chain = make_chain()
    sender = create_parent_with_auth_key(chain, accounts[0], b"sender")
    create_parent_with_auth_key(chain, accounts[1], b"receiver")
    chain.run(chain.sign(DD_KEY, p2p(sender, 5 * 10**9), sender=TESTNET_DD))
    chain.run(txns["rotate dual attestation info (legacy script)"])
    set_recipient_compliance_key(chain, accounts[1])
    travel = txns["p2p travel rule with recipient signature"]
    script = travel.raw_txn.payload.value
    from primitives.keys import PrivateKey
    from primitives.types.scripts import Script, TransactionArgument, TransactionArgumentKind
    from primitives.types.transactions import TransactionPayload
    args = list(script.args)
    args[1] = TransactionArgument(TransactionArgumentKind.U64, 10**9 + 1)
    tampered = TransactionPayload(Script(script.code, script.ty_args, tuple(args)))
    key = PrivateKey.from_hex(accounts[0]["private_key"])
    out = chain.run(chain.sign(key, tampered, seq=0, gas_currency="XDX"))
    status = out.transactions[1].status
    assert (status.location.endswith("::DualAttestation"), status.abort_code) == (True, 1031)
