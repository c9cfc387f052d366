"""Transaction views reproduce Diem's JSON for the worked example of diem-compat §1.6."""

from __future__ import annotations

import json
from pathlib import Path

from node.rpc.views import compute_argument_view, compute_transaction_view, compute_vm_status_view
from primitives.hashing import sha3_256
from primitives.types.ledger_transactions import Transaction
from primitives.types.names import AccountAddress
from primitives.types.scripts import TransactionArgument, TransactionArgumentKind
from primitives.types.transactions import SignedTransaction

# The repository's copy of ../shared/vectors/diem_vectors.json (byte-identical).
VECTORS = json.loads((Path(__file__).resolve().parents[2] / "primitives" / "data" / "diem_vectors.json").read_text())
P2P_CODE_HASH = "04ea43107fafc12adcd09f6c68d63e194675d0ce843a7faf7cceb6c813db9d9a"


def get_vector(name: str) -> dict:
    return next(item for item in VECTORS["transactions"] if item["name"] == name)


def lookup_script_name(code: bytes) -> str | None:
    return "peer_to_peer_with_metadata" if sha3_256(code).hex() == P2P_CODE_HASH else None


class Executed:
    kind = "executed"


# diem-compat §3.8: the worked example whose JSON is spelled out in §1.6.
WORKED_P2P_SCRIPT_FUNCTION = (
    "e52999d653b418b73c002e3e43bc7ca9070000000000000003000000000000000000000000000000010e5061796d656e7453637269707473"
    "1a706565725f746f5f706565725f776974685f6d65746164617461010700000000000000000000000000000001035855530358555300041047"
    "e71f8d3c713fd25766b7eff13855000887d61200000000000f0e0100010801020304050607080000010040420f00000000000000000000000000"
    "0358555300b33f71000000000200205ce7d54a8054be74ed7d90b6b5447442a12026696de1af6515fb109c0c3ee4d2402b72b950754b220f2a"
    "c5de28834007a200977f9d94e567cc487a1e2bc32060e3a75b18e21c4169c1ee1eb6160b2f11519b08e03650e44064c3e6863aa4971804"
)
WORKED_P2P_LEGACY_SCRIPT = (
    "e52999d653b418b73c002e3e43bc7ca9080000000000000001e001a11ceb0b010000000701000202020403061004160205181d0735600895"
    "011000000001010000020001000003020301010004010300010501060c0108000506080005030a020a020005060c05030a020a020109000b"
    "4469656d4163636f756e741257697468647261774361706162696c6974791b657874726163745f77697468647261775f6361706162696c69"
    "7479087061795f66726f6d1b726573746f72655f77697468647261775f6361706162696c6974790000000000000000000000000000000101"
    "0104010c0b0011000c050e050a010a020b030b0438000b051102020107000000000000000000000000000000010358555303585553000403"
    "47e71f8d3c713fd25766b7eff13855000187d6120000000000040e0100010801020304050607080000040040420f00000000000000000000"
    "0000000358555300b33f71000000000200205ce7d54a8054be74ed7d90b6b5447442a12026696de1af6515fb109c0c3ee4d2402948af6727"
    "9f945038975eb241be7f29c8f60cdf9952a89d754dc3b42189206471b4110ef86268549bb2000a76a0d244bb628d61695cefef15defa614f"
    "874f02"
)


def test_every_vector_transaction_renders_with_its_hash() -> None:
    for vector in VECTORS["transactions"]:
        view = render(vector["signed_bcs"])
        assert view["hash"] == vector["hash"], vector["name"]
        assert view["bytes"] == "00" + vector["signed_bcs"]
        assert view["transaction"]["signature"] == vector["signature"]


def render(signed_hex: str) -> dict:
    transaction = Transaction(SignedTransaction.from_bcs(bytes.fromhex(signed_hex)))
    return compute_transaction_view(1234, transaction, Executed(), 477, [], lookup_script_name)


def test_script_function_payment_matches_the_worked_json() -> None:
    view = render(WORKED_P2P_SCRIPT_FUNCTION)
    assert view["hash"] == "268d017c6102d2026a09ec08dcbc9e30db67c760d9d9d9e53c7df0b2c4bf4ba3"
    assert view["bytes"] == "00" + WORKED_P2P_SCRIPT_FUNCTION
    data = view["transaction"]
    assert list(data) == [
        "type", "sender", "signature_scheme", "signature", "public_key", "secondary_signers",
        "secondary_signature_schemes", "secondary_signatures", "secondary_public_keys", "sequence_number",
        "chain_id", "max_gas_amount", "gas_unit_price", "gas_currency", "expiration_timestamp_secs",
        "script_hash", "script_bytes", "script",
    ]
    assert data["sender"] == "e52999d653b418b73c002e3e43bc7ca9"
    assert data["signature_scheme"] == "Scheme::Ed25519"
    assert data["public_key"] == "5ce7d54a8054be74ed7d90b6b5447442a12026696de1af6515fb109c0c3ee4d2"
    assert (data["sequence_number"], data["chain_id"], data["max_gas_amount"]) == (7, 2, 1_000_000)
    assert data["script_hash"] == "00" * 32
    assert data["signature"] == (
        "2b72b950754b220f2ac5de28834007a200977f9d94e567cc487a1e2bc32060e3"
        "a75b18e21c4169c1ee1eb6160b2f11519b08e03650e44064c3e6863aa4971804"
    )
    assert data["script_bytes"] == WORKED_P2P_SCRIPT_FUNCTION[32 + 16 + 2 : WORKED_P2P_SCRIPT_FUNCTION.index("40420f")]
    assert data["script"] == {
        "type": "script_function",
        "type_arguments": ["XUS"],
        "arguments_bcs": ["47e71f8d3c713fd25766b7eff1385500", "87d6120000000000", "0e0100010801020304050607080000", "00"],
        "module_address": "00000000000000000000000000000001",
        "module_name": "PaymentScripts",
        "function_name": "peer_to_peer_with_metadata",
    }
    assert view["vm_status"] == {"type": "executed"}


def test_legacy_script_payment_shows_the_payment_fields() -> None:
    view = render(WORKED_P2P_LEGACY_SCRIPT)
    assert view["hash"] == "870fdea0a879080aa137e7d39a5a81cdba445e81eedfa4f14bf078fdab373c91"
    data = view["transaction"]
    assert data["script_hash"] == P2P_CODE_HASH
    assert data["script_bytes"].startswith("e001a11ceb0b")
    script = data["script"]
    assert script["type"] == "peer_to_peer_with_metadata"
    assert script["arguments"] == [
        "{ADDRESS: 47E71F8D3C713FD25766B7EFF1385500}", "{U64: 1234567}",
        "{U8Vector: 0x0100010801020304050607080000}", "{U8Vector: 0x}",
    ]
    assert script["type_arguments"] == ["XUS"]
    assert (script["receiver"], script["amount"], script["currency"]) == ("47e71f8d3c713fd25766b7eff1385500", 1234567, "XUS")
    assert (script["metadata"], script["metadata_signature"]) == ("0100010801020304050607080000", "")


def test_an_unknown_script_is_rendered_without_payment_fields() -> None:
    view = render(get_vector("p2p legacy script")["signed_bcs"])
    view_unknown = compute_transaction_view(
        1, Transaction(SignedTransaction.from_bcs(bytes.fromhex(get_vector("p2p legacy script")["signed_bcs"]))),
        Executed(), 0, [], lambda _code: None,
    )
    assert view_unknown["transaction"]["script"]["type"] == "unknown"
    assert "receiver" not in view_unknown["transaction"]["script"]
    assert view["transaction"]["script"]["code"] == view_unknown["transaction"]["script"]["code"]


def test_argument_strings_follow_diem() -> None:
    assert compute_argument_view(TransactionArgument(TransactionArgumentKind.U8, 12)) == "{U8: 12}"
    assert compute_argument_view(TransactionArgument(TransactionArgumentKind.U128, 2**70)) == f"{{U128: {2**70}}}"
    assert compute_argument_view(TransactionArgument(TransactionArgumentKind.BOOL, True)) == "{BOOL: true}"
    address = AccountAddress.from_hex("0a550c18".rjust(32, "0"))
    assert compute_argument_view(TransactionArgument(TransactionArgumentKind.ADDRESS, address)) == "{ADDRESS: 0000000000000000000000000A550C18}"


def test_move_abort_status_carries_location_code_and_explanation() -> None:
    class Explanation:
        category, category_description = "LIMIT_EXCEEDED", " A limit on an amount"
        reason, reason_description = "EINSUFFICIENT_BALANCE", " The account does not hold a large enough balance"

    class Abort:
        kind, location, abort_code, explanation = "move_abort", "00000000000000000000000000000001::DiemAccount", 1288, Explanation()

    view = compute_vm_status_view(Abort())
    assert view["type"] == "move_abort" and view["abort_code"] == 1288
    assert view["explanation"]["reason"] == "EINSUFFICIENT_BALANCE"
