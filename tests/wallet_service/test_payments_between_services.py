"""Two of our wallet services on one devnet pay each other: by identifier and by Diem ID, below and above
the travel-rule limit, in both directions; payment creation is idempotent.
"""

from __future__ import annotations

import pytest

from tests.wallet_service.harness import XUS, WalletService, wait_for

TRAVEL_RULE_LIMIT_MICRO = 1_000 * XUS  # the devnet's dual_attestation_limit
KYC = {"payload_version": 1, "type": "individual", "given_name": "Ada", "surname": "Lovelace"}


def open_accounts(payer_service: WalletService, payee_service: WalletService, amount: int,
                  handle: str | None = None) -> tuple[str, str]:
    payer = payer_service.create_account(balances={"XUS": amount}, kyc_data=KYC)
    payee = payee_service.create_account(kyc_data=KYC, **({"handle": handle} if handle else {}))
    return payer, payee


def assert_settled(payer_service: WalletService, payer: str, payment_id: str, payee_service: WalletService,
                   payee: str, amount: int) -> None:
    wait_for(lambda: payee_service.balance(payee) == amount, "the payee's balance")
    wait_for(lambda: payer_service.payment(payer, payment_id)["status"] == "completed", "the payment to complete")
    assert payer_service.balance(payer) == 0
    assert payer_service.payment(payer, payment_id)["version"] > 0


@pytest.mark.parametrize("amount", [12 * XUS, TRAVEL_RULE_LIMIT_MICRO], ids=["below-limit", "at-limit"])
@pytest.mark.parametrize("direction", ["alpha-to-beta", "beta-to-alpha"])
def test_pay_an_account_identifier(alpha: WalletService, beta: WalletService, amount: int, direction: str) -> None:
    payer_service, payee_service = (alpha, beta) if direction == "alpha-to-beta" else (beta, alpha)
    payer, payee = open_accounts(payer_service, payee_service, amount)
    payment_id = payer_service.pay(payer, payee_service.new_identifier(payee), amount)
    assert_settled(payer_service, payer, payment_id, payee_service, payee, amount)
    if amount >= TRAVEL_RULE_LIMIT_MICRO:
        states = [event for event in payer_service.events(payer) if event["type"] == "updated_payment_command"]
        assert '"READY"' in states[-1]["data"]  # the KYC exchange ran to READY before the payment settled


@pytest.mark.parametrize("amount", [3 * XUS, 2 * TRAVEL_RULE_LIMIT_MICRO], ids=["below-limit", "above-limit"])
@pytest.mark.parametrize("direction", ["alpha-to-beta", "beta-to-alpha"])
def test_pay_a_friend_by_handle(alpha: WalletService, beta: WalletService, amount: int, direction: str) -> None:
    payer_service, payee_service = (alpha, beta) if direction == "alpha-to-beta" else (beta, alpha)
    handle = f"friend.{direction.replace('-', '')}.{amount}"
    payer, payee = open_accounts(payer_service, payee_service, amount, handle)
    payment_id = payer_service.pay(payer, f"{handle}@{payee_service.domain()}", amount)
    assert_settled(payer_service, payer, payment_id, payee_service, payee, amount)


def test_a_retried_payment_request_pays_once(alpha: WalletService, beta: WalletService) -> None:
    payer, payee = open_accounts(alpha, beta, 10 * XUS)
    identifier = beta.new_identifier(payee)
    first = alpha.pay(payer, identifier, 4 * XUS, key="order-17")
    again = alpha.pay(payer, identifier, 4 * XUS, key="order-17")
    assert again == first
    conflicting = alpha.post(f"/accounts/{payer}/payments", {"payee": identifier, "currency": "XUS", "amount": 5},
                             {"Idempotency-Key": "order-17"})
    assert conflicting.status_code == 409 and conflicting.json()["code"] == "idempotency_conflict"
    wait_for(lambda: beta.balance(payee) == 4 * XUS, "the one payment")
    assert alpha.balance(payer) == 6 * XUS


def test_pay_another_user_of_the_same_service(alpha: WalletService) -> None:
    payer = alpha.create_account(balances={"XUS": 7 * XUS})
    payee = alpha.create_account(handle="neighbour")
    by_identifier = alpha.pay(payer, alpha.new_identifier(payee), 2 * XUS)
    by_handle = alpha.pay(payer, f"neighbour@{alpha.domain()}", 5 * XUS)
    wait_for(lambda: alpha.balance(payee) == 7 * XUS, "both internal payments")
    assert alpha.balance(payer) == 0
    assert {alpha.payment(payer, by_identifier)["status"], alpha.payment(payer, by_handle)["status"]} == {"completed"}
