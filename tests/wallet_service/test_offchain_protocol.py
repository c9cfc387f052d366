"""The off-chain API v2 endpoint answers every DIP-1 / DIP-10 error case with the specified type and code.

These run in-process against the service's request handler with a stand-in for the chain (the two
VASPs' credentials), so each case is deterministic; the Diem SDK suites cover the same endpoint over
HTTP on a devnet.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from contracts.transaction_builder import Account as LocalAccount
from primitives.account_identifier import encode_account_identifier
from primitives.keys import PrivateKey
from primitives.types.names import AccountAddress
from wallet.offchain import jws
from wallet_service.chain import Chain, Credential
from wallet_service.context import Context
from wallet_service.kyc import compute_samples
from wallet_service.ledger import create_account, create_subaddress
from wallet_service.offchain_inbound import process_request
from wallet_service.offchain_payment import compute_signed_message
from wallet_service.store import Store

LIMIT_MICRO = 1_000_000_000
OURS = PrivateKey.from_seed_material(b"our vasp")
THEIRS = PrivateKey.from_seed_material(b"their vasp")
THEIR_COMPLIANCE = PrivateKey.from_seed_material(b"their compliance key")
STRANGER = PrivateKey.from_seed_material(b"a vasp without a credential")
HRP = "tdm"


def identifier(key: PrivateKey, subaddress: bytes | None = None) -> str:
    return encode_account_identifier(HRP, AccountAddress(key.public_key().address()), subaddress)


class World:
    """Our service's request handler, its store, and the counterparty's keys."""

    def __init__(self, directory: Path) -> None:
        chain = Chain(None, LocalAccount(OURS), PrivateKey.from_seed_material(b"our compliance"), 2, HRP,  # type: ignore[arg-type]
                      faucet_enabled=False, dual_attestation_limit=LIMIT_MICRO,
                      exchange_rates={"XUS": 1.0, "XDX": 1.0})

        async def get_credential(address: bytes) -> Credential | None:
            if address == THEIRS.public_key().address():
                return Credential(address, "http://their.vasp", THEIR_COMPLIANCE.public_key().data)
            return None

        async def is_own_address(address: bytes) -> bool:
            return address == OURS.public_key().address()

        chain.get_credential = get_credential  # type: ignore[method-assign]
        chain.is_own_address = is_own_address  # type: ignore[method-assign]
        self.store = Store(directory)
        self.ctx = Context(self.store, chain, None, "ours", "http://our.vasp", False,  # type: ignore[arg-type]
                           compute_samples("ours"), domains=("ourvasp",))
        self.user = create_account(self.store, None, "ada", False, {})
        self.receiver = identifier(OURS, create_subaddress(self.store, self.user))
        self.sender = identifier(THEIRS, bytes(7) + b"\x09")

    def send(self, request: Any, sender_header: str | None = "default", request_id: str | None = "default",
             body: bytes | None = None, key: PrivateKey = THEIR_COMPLIANCE) -> dict[str, Any]:
        header = self.sender if sender_header == "default" else sender_header
        request_id = str(uuid.uuid4()) if request_id == "default" else request_id
        if body is None:
            body = jws.encode(json.dumps(request).encode(), key.sign)
        return asyncio.run(process_request(self.ctx, request_id, header, body))

    def payment(self, amount: int = LIMIT_MICRO, currency: str = "XUS", **changes: Any) -> dict[str, Any]:
        payment = {"reference_id": str(uuid.uuid4()),
                   "sender": {"address": self.sender, "status": {"status": "needs_kyc_data"},
                              "kyc_data": {"payload_version": 1, "type": "individual", "given_name": "Bo",
                                           "surname": "Li"}},
                   "receiver": {"address": self.receiver, "status": {"status": "none"}},
                   "action": {"amount": amount, "currency": currency, "action": "charge", "timestamp": 1}}
        payment.update(changes)
        return payment


def request(command_type: str, command: dict[str, Any], cid: str | None = None) -> dict[str, Any]:
    return {"_ObjectType": "CommandRequestObject", "command_type": command_type, "cid": cid or str(uuid.uuid4()),
            "command": command}


def payment_request(payment: dict[str, Any], cid: str | None = None) -> dict[str, Any]:
    return request("PaymentCommand", {"_ObjectType": "PaymentCommand", "payment": payment}, cid)


def assert_error(response: dict[str, Any], error_type: str, code: str, field: str | None = None) -> None:
    assert response["status"] == "failure", response
    assert (response["error"]["type"], response["error"]["code"]) == (error_type, code), response
    assert response["error"].get("field") == field, response


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_ping_succeeds_and_echoes_the_cid(world: World) -> None:
    ping = request("PingCommand", {"_ObjectType": "PingCommand"})
    assert world.send(ping) == {"_ObjectType": "CommandResponseObject", "status": "success", "cid": ping["cid"]}


@pytest.mark.parametrize("request_id, code", [(None, "missing_http_header"), ("not-a-uuid", "invalid_http_header")])
def test_x_request_id_is_required(world: World, request_id: str | None, code: str) -> None:
    response = world.send(request("PingCommand", {"_ObjectType": "PingCommand"}), request_id=request_id)
    assert_error(response, "protocol_error", code)
    assert "cid" not in response


@pytest.mark.parametrize("header, code", [
    (None, "missing_http_header"), ("18e97a844979a76b030119db95aaf9d0", "invalid_http_header"),
    (identifier(STRANGER), "invalid_http_header"),                                # no base URL / compliance key
])
def test_the_sender_address_header_must_name_a_vasp(world: World, header: str | None, code: str) -> None:
    assert_error(world.send(request("PingCommand", {"_ObjectType": "PingCommand"}), sender_header=header),
                 "protocol_error", code)


@pytest.mark.parametrize("body, code", [
    (b"invalid.jws_msg", "invalid_jws"),
    (b"eyJhbGciOiJub25lIn0.e30.", "invalid_jws"),                                 # alg none is never accepted
])
def test_a_malformed_jws_is_refused(world: World, body: bytes, code: str) -> None:
    assert_error(world.send(None, body=body), "protocol_error", code)


def test_a_jws_signed_by_another_key_is_refused(world: World) -> None:
    ping = request("PingCommand", {"_ObjectType": "PingCommand"})
    assert_error(world.send(ping, key=PrivateKey.from_seed_material(b"thief")), "protocol_error",
                 "invalid_jws_signature")


def test_a_payload_that_is_not_json_is_refused(world: World) -> None:
    assert_error(world.send(None, body=jws.encode(b"hello world", THEIR_COMPLIANCE.sign)), "protocol_error",
                 "invalid_json")


@pytest.mark.parametrize("field, value, code", [
    ("cid", None, "missing_field"), ("_ObjectType", None, "missing_field"), ("command_type", None, "missing_field"),
    ("cid", "invalid value", "invalid_field_value"), ("_ObjectType", "X", "invalid_field_value"),
    ("command_type", True, "invalid_field_value"), ("surprise", 1, "unknown_field"),
])
def test_the_request_envelope_is_checked(world: World, field: str, value: Any, code: str) -> None:
    ping = request("PingCommand", {"_ObjectType": "PingCommand"})
    ping[field] = value
    assert_error(world.send({k: v for k, v in ping.items() if v is not None}), "protocol_error", code, field)


def test_an_unknown_command_type_is_a_protocol_error(world: World) -> None:
    response = world.send(request("AbcCommand", {}))
    assert_error(response, "protocol_error", "unknown_command_type", "command_type")
    assert response["cid"]


@pytest.mark.parametrize("change, code, field", [
    ({"amount": 1_000}, "no_kyc_needed", "command.payment.action.amount"),
    ({"currency": "XDX"}, "unsupported_currency", "command.payment.action.currency"),
    ({"currency": "ABC"}, "invalid_field_value", "command.payment.action.currency"),
])
def test_an_initial_payment_needs_a_supported_currency_and_a_travel_rule_amount(world: World, change: dict,
                                                                                 code: str, field: str) -> None:
    assert_error(world.send(payment_request(world.payment(**change))), "command_error", code, field)


def test_a_payment_between_two_other_vasps_is_refused(world: World) -> None:
    payment = world.payment()
    payment["receiver"]["address"] = identifier(THEIRS, bytes(7) + b"\x01")
    assert_error(world.send(payment_request(payment)), "command_error", "unknown_address")


def test_the_header_address_must_be_an_actor(world: World) -> None:
    response = world.send(payment_request(world.payment()), sender_header=identifier(THEIRS, bytes(7) + b"\x02"))
    assert_error(response, "command_error", "invalid_http_header")


def test_a_receiver_state_written_by_the_sender_is_refused(world: World) -> None:
    payment = world.payment()
    payment["receiver"]["status"] = {"status": "abort", "abort_code": "rejected"}
    assert_error(world.send(payment_request(payment)), "command_error", "invalid_command_producer")


def test_an_update_of_an_unknown_payment_is_refused(world: World) -> None:
    payment = world.payment()
    payment["sender"]["status"] = {"status": "abort", "abort_code": "rejected"}
    assert_error(world.send(payment_request(payment)), "command_error", "invalid_initial_or_prior_not_found")


def test_a_state_without_its_fields_is_missing_them(world: World) -> None:
    payment = world.payment()
    del payment["sender"]["kyc_data"]
    assert_error(world.send(payment_request(payment)), "command_error", "missing_field",
                 "command.payment.sender.kyc_data")


def accept_initial(world: World) -> dict[str, Any]:
    payment = world.payment()
    assert world.send(payment_request(payment))["status"] == "success"
    return payment


def test_changing_the_action_is_an_invalid_overwrite(world: World) -> None:
    payment = accept_initial(world)
    payment["action"] = {**payment["action"], "amount": LIMIT_MICRO + 1}
    payment["sender"]["status"] = {"status": "abort", "abort_code": "rejected"}
    assert_error(world.send(payment_request(payment)), "command_error", "invalid_overwrite", "payment.action")


def test_changing_our_actor_object_is_an_invalid_overwrite(world: World) -> None:
    payment = accept_initial(world)
    payment["receiver"]["metadata"] = ["written by the sender"]
    assert_error(world.send(payment_request(payment)), "command_error", "invalid_overwrite", "payment.receiver")


def test_a_transition_dip1_does_not_allow_is_refused(world: World) -> None:
    payment = accept_initial(world)
    payment["sender"]["status"] = {"status": "abort", "abort_code": "rejected"}  # S_INIT → S_ABORT
    assert_error(world.send(payment_request(payment)), "command_error", "invalid_transition")


def test_r_send_must_carry_a_valid_recipient_signature(world: World) -> None:
    ours_as_sender = world.payment()
    ours_as_sender["sender"]["address"], ours_as_sender["receiver"]["address"] = world.receiver, world.sender
    row = (ours_as_sender["reference_id"], world.user, "sender", world.receiver, world.sender,
           json.dumps(ours_as_sender), "S_INIT", 0, 0)
    with world.store.transaction():
        world.store.execute("INSERT INTO payment_commands VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, NULL, ?)", row)
    answer = json.loads(json.dumps(ours_as_sender))
    answer["receiver"].update(status={"status": "ready_for_settlement"},
                              kyc_data={"payload_version": 1, "type": "entity", "legal_entity_name": "T"})
    _, message = compute_signed_message(answer, OURS.public_key().address())
    answer["recipient_signature"] = PrivateKey.from_seed_material(b"wrong key").sign(message).hex()
    assert_error(world.send(payment_request(answer), sender_header=world.sender), "command_error",
                 "invalid_recipient_signature", "command.payment.recipient_signature")
    answer["recipient_signature"] = THEIR_COMPLIANCE.sign(message).hex()
    assert world.send(payment_request(answer), sender_header=world.sender)["status"] == "success"


def test_a_replayed_command_gets_the_identical_answer_and_a_reused_cid_conflicts(world: World) -> None:
    first = payment_request(world.payment(amount=5))
    answer = world.send(first)
    assert_error(answer, "command_error", "no_kyc_needed", "command.payment.action.amount")
    assert world.send(first) == answer
    assert_error(world.send(payment_request(world.payment(), cid=first["cid"])), "command_error", "conflict")


def test_reference_id_exchange_maps_a_user_and_refuses_duplicates_and_strangers(world: World) -> None:
    reference_id = str(uuid.uuid4())
    command = {"_ObjectType": "ReferenceIDCommand", "sender": "bo@theirs", "sender_address": identifier(THEIRS),
               "receiver": "ada@ourvasp", "reference_id": reference_id}
    response = world.send(request("ReferenceIDCommand", command))
    assert response["result"] == {"_ObjectType": "ReferenceIDCommandResponse", "receiver_address": identifier(OURS)}
    assert_error(world.send(request("ReferenceIDCommand", command)), "command_error", "duplicate_reference_id",
                 "command.reference_id")
    stranger = {**command, "receiver": "nobody@ourvasp", "reference_id": str(uuid.uuid4())}
    assert_error(world.send(request("ReferenceIDCommand", stranger)), "command_error", "invalid_receiver",
                 "command.receiver")
