"""Every endpoint of the MiniWallet API answers as the specification says, and bad input gets a 4xx with a
reason and changes nothing.
"""

from __future__ import annotations

import pytest
import requests

from tests.wallet_service.harness import HTTP_TIMEOUT_S, XUS, WalletService

VALID_KYC = {"payload_version": 1, "type": "individual", "given_name": "Grace", "surname": "Hopper"}


def test_create_account_answers_201_with_an_id(alpha: WalletService) -> None:
    answer = alpha.post("/accounts", {"kyc_data": VALID_KYC, "balances": {"XUS": 5 * XUS}})
    assert answer.status_code == 201
    assert alpha.balance(answer.json()["id"]) == 5 * XUS


def test_create_a_blank_account(alpha: WalletService) -> None:
    answer = requests.post(f"{alpha.url}/accounts", timeout=HTTP_TIMEOUT_S)
    assert answer.status_code == 201
    assert alpha.get(f"/accounts/{answer.json()['id']}/balances").json() == {"XUS": 0}


@pytest.mark.parametrize("body, code", [
    ({"kyc_data": {"type": "individual"}}, "invalid_kyc_data"),              # payload_version missing
    ({"kyc_data": {**VALID_KYC, "type": "robot"}}, "invalid_kyc_data"),
    ({"kyc_data": {**VALID_KYC, "favourite_colour": "blue"}}, "invalid_kyc_data"),
    ({"balances": {"XUS": -1}}, "invalid_amount"),
    ({"balances": {"XUS": 1.5}}, "invalid_amount"),
    ({"balances": {"USD": 1}}, "invalid_currency"),
    ({"balances": [1]}, "invalid_balances"),
    ({"handle": "has space"}, "invalid_handle"),
    ({"handle": "x" * 65}, "invalid_handle"),
    ({"handle": "0123456789abcdef0123456789abcdef"}, "invalid_handle"),       # would shadow an account id
    ({"nickname": "z"}, "unknown_field"),
    ([1, 2], "invalid_json"),
])
def test_create_account_refuses_bad_input(alpha: WalletService, body: object, code: str) -> None:
    answer = alpha.post("/accounts", body)
    assert answer.status_code == 400
    assert answer.json()["code"] == code and answer.json()["error"]


def test_a_body_that_is_not_json_is_refused(alpha: WalletService) -> None:
    answer = requests.post(f"{alpha.url}/accounts", data=b"{not json", timeout=HTTP_TIMEOUT_S)
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_json"


def test_a_taken_handle_is_refused(alpha: WalletService) -> None:
    alpha.create_account(handle="unique.handle")
    answer = alpha.post("/accounts", {"handle": "Unique.Handle"})
    assert answer.status_code == 409 and answer.json()["code"] == "handle_taken"


@pytest.mark.parametrize("method, path", [
    ("GET", "/accounts/{}/balances"), ("POST", "/accounts/{}/payments"),
    ("POST", "/accounts/{}/account_identifiers"), ("GET", "/accounts/{}/events"),
])
def test_an_unknown_account_is_refused_on_every_endpoint(alpha: WalletService, method: str, path: str) -> None:
    answer = requests.request(method, alpha.url + path.format("0" * 32), json={}, timeout=HTTP_TIMEOUT_S)
    assert answer.status_code == 400 and answer.json()["code"] == "not_found"


def test_account_identifiers_are_fresh_subaddresses_of_the_service(alpha: WalletService) -> None:
    account = alpha.create_account()
    first, second = alpha.new_identifier(account), alpha.new_identifier(account)
    assert first != second and first.startswith("tdm1p") and len(first) == 50


def test_kyc_sample_has_the_four_samples(alpha: WalletService) -> None:
    answer = alpha.get("/kyc_sample")
    assert answer.status_code == 200
    assert set(answer.json()) == {"minimum", "reject", "soft_match", "soft_reject"}


def test_events_record_what_happened(alpha: WalletService) -> None:
    account = alpha.create_account(balances={"XUS": XUS})
    alpha.new_identifier(account)
    answer = alpha.get(f"/accounts/{account}/events")
    assert answer.status_code == 200
    assert [event["type"] for event in answer.json()] == ["created_account", "created_transaction",
                                                          "created_subaddress"]
    assert {"id", "account_id", "type", "data", "timestamp"} <= set(answer.json()[0])


@pytest.mark.parametrize("body, code", [
    ({"payee": "PAYEE", "currency": "XU", "amount": XUS}, "invalid_currency"),
    ({"payee": "PAYEE", "currency": "xus", "amount": XUS}, "invalid_currency"),
    ({"payee": "PAYEE", "currency": "", "amount": XUS}, "invalid_currency"),
    ({"payee": "PAYEE", "currency": "XUS", "amount": -1}, "invalid_amount"),
    ({"payee": "PAYEE", "currency": "XUS", "amount": 0}, "invalid_amount"),
    ({"payee": "PAYEE", "currency": "XUS", "amount": 0.1}, "invalid_amount"),
    ({"payee": "PAYEE", "currency": "XUS", "amount": "5"}, "invalid_amount"),
    ({"payee": "PAYEE", "currency": "XUS", "amount": 2**70}, "invalid_amount"),
    ({"payee": "PAYEE", "currency": "XUS", "amount": 3 * XUS}, "insufficient_balance"),
    ({"payee": "invalid account identifier", "currency": "XUS", "amount": XUS}, "invalid_payee"),
    ({"payee": "dm1p7ujcndcl7nudzwt8fglhx6wxn08kgs5tm6mz4us2vfufk", "currency": "XUS", "amount": XUS},
     "invalid_payee"),                                                      # another network's prefix
    ({"payee": "tdm1p7ujcndcl7nudzwt8fglhx6wxn08kgs5tm6mz4ustv0tyx", "currency": "XUS", "amount": XUS},
     "unknown_payee"),                                                      # no such account on chain
    ({"payee": "someone@no.such.domain", "currency": "XUS", "amount": XUS}, "unknown_payee"),
    ({"payee": "bad user@domain", "currency": "XUS", "amount": XUS}, "invalid_payee"),
    ({"payee": 42, "currency": "XUS", "amount": XUS}, "invalid_payee"),
    ({"currency": "XUS", "amount": XUS}, "invalid_payee"),
    ({"payee": "PAYEE", "currency": "XUS", "amount": XUS, "memo": "x"}, "unknown_field"),
])
def test_send_payment_refuses_bad_input_and_changes_nothing(alpha: WalletService, beta: WalletService,
                                                            body: dict, code: str) -> None:
    payer = alpha.create_account(balances={"XUS": 2 * XUS})
    if body.get("payee") == "PAYEE":
        body = {**body, "payee": beta.new_identifier(beta.create_account())}
    answer = alpha.post(f"/accounts/{payer}/payments", body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == code
    assert alpha.balance(payer) == 2 * XUS
    assert [event["type"] for event in alpha.events(payer)] == ["created_account", "created_transaction"]


def test_send_payment_accepts_with_202_and_shows_its_status(alpha: WalletService, beta: WalletService) -> None:
    payer = alpha.create_account(balances={"XUS": XUS})
    answer = alpha.post(f"/accounts/{payer}/payments",
                        {"payee": beta.new_identifier(beta.create_account()), "currency": "XUS", "amount": XUS})
    assert answer.status_code == 202
    status = alpha.get(f"/accounts/{payer}/payments/{answer.json()['id']}")
    assert status.status_code == 200 and status.json()["amount"] == XUS
    assert alpha.balance(payer) == 0  # reserved at once: it cannot be spent twice


def test_an_oversized_body_is_refused(alpha: WalletService) -> None:
    answer = requests.post(f"{alpha.url}/accounts", data=b"{" + b" " * 300_000 + b"}", timeout=HTTP_TIMEOUT_S)
    assert answer.status_code == 413
