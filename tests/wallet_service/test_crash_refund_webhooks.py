"""A wallet service killed mid-payment loses nothing and pays nothing twice; payments nobody here can take
are refunded with Diem refund metadata; the app hears about every payment through signed webhooks.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from contracts.transaction_builder import compose_peer_to_peer
from devnet.launcher import call_rpc
from primitives.metadata import GeneralMetadataV0, Metadata, RefundMetadataV0, RefundReason, decode_metadata
from tests.devnet.cluster import Issuer, check_accepted, submit, wait_until
from tests.wallet_service.conftest import Net, start_service
from tests.wallet_service.harness import XUS, WalletService, find_free_port, wait_for
from wallet_service.webhooks import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, is_valid_signature

FAILING_WEBHOOK_ANSWERS = 2  # the app's endpoint fails at first: the service must retry
CRASH_DELAYS_S = (0.0, 0.3, 0.8)


class WebhookReceiver(ThreadingHTTPServer):
    """An app's webhook endpoint that fails its first requests, then records every delivery."""

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), WebhookHandler)
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.failures_left = FAILING_WEBHOOK_ANSWERS


class WebhookHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server hook name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server: WebhookReceiver = self.server  # type: ignore[assignment]
        if server.failures_left > 0:
            server.failures_left -= 1
            self.send_response(500)
        else:
            server.deliveries.append((dict(self.headers), body))
            self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="module")
def webhooks() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(find_free_port(29_900))
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.shutdown()
    receiver.server_close()


@pytest.fixture(scope="module")
def gamma(net: Net, webhooks: WebhookReceiver) -> Iterator[WalletService]:
    service = start_service(net, "gamma", 3, webhook_url=f"http://127.0.0.1:{webhooks.server_port}/hooks")
    yield service
    service.stop()


def get_sent_count(net: Net, service: WalletService) -> int:
    """Return how many payments the service's VASP account has sent on chain."""
    account = call_rpc(net.rpc_urls[0], "get_account", [service.vasp_address()])["result"]
    return len(call_rpc(net.rpc_urls[0], "get_events", [account["sent_events_key"], 0, 1000])["result"])


def test_a_crash_mid_payment_neither_loses_nor_doubles_it(net: Net, gamma: WalletService, beta: WalletService) -> None:
    payer = gamma.create_account(balances={"XUS": 30 * XUS})
    payee = beta.create_account()
    sent_before = get_sent_count(net, gamma)
    payments = []
    for delay_s in CRASH_DELAYS_S:
        payments.append(gamma.pay(payer, beta.new_identifier(payee), 10 * XUS))
        time.sleep(delay_s)
        gamma.stop(signal.SIGKILL)
        gamma.start()
    wait_for(lambda: all(gamma.payment(payer, pid)["status"] == "completed" for pid in payments), "all payments")
    wait_for(lambda: beta.balance(payee) == 30 * XUS, "the payee's balance")
    time.sleep(2)  # any second copy would have landed by now
    assert beta.balance(payee) == 30 * XUS
    assert get_sent_count(net, gamma) == sent_before + len(CRASH_DELAYS_S)


def test_a_payment_that_arrives_while_the_service_is_down_is_credited_once(gamma: WalletService,
                                                                           beta: WalletService) -> None:
    receiver = gamma.create_account()
    identifier = gamma.new_identifier(receiver)
    payer = beta.create_account(balances={"XUS": 5 * XUS})
    gamma.stop(signal.SIGKILL)
    payment = beta.pay(payer, identifier, 5 * XUS)
    wait_for(lambda: beta.payment(payer, payment)["status"] == "completed", "the payment on chain")
    gamma.start()
    wait_for(lambda: gamma.balance(receiver) == 5 * XUS, "the credit after the restart")
    gamma.stop()
    gamma.start()
    time.sleep(1)
    assert gamma.balance(receiver) == 5 * XUS


def test_webhooks_are_signed_retried_and_carry_an_idempotency_key(gamma: WalletService,
                                                                  webhooks: WebhookReceiver) -> None:
    receiver = gamma.create_account()
    other = gamma.create_account(balances={"XUS": 2 * XUS})
    gamma.pay(other, gamma.new_identifier(receiver), 2 * XUS)
    secret = bytes.fromhex((gamma.data_dir / "webhook.secret").read_text())

    def received() -> list[dict]:
        bodies = [json.loads(body) for _headers, body in webhooks.deliveries]
        return [body for body in bodies if body["type"] == "payment.received"
                and body["payment"]["account_id"] == receiver]

    wait_for(received, "the payment.received webhook")
    assert webhooks.failures_left == 0  # the first answers failed and the deliveries were retried
    for headers, body in webhooks.deliveries:
        assert is_valid_signature(secret, headers[SIGNATURE_HEADER], body)
        assert headers[IDEMPOTENCY_HEADER] == json.loads(body)["idempotency_key"]
    assert not is_valid_signature(b"another app's secret", webhooks.deliveries[0][0][SIGNATURE_HEADER],
                                  webhooks.deliveries[0][1])
    assert received()[0]["payment"]["amount"] == 2 * XUS


def test_a_payment_to_an_unknown_subaddress_is_refunded(net: Net, alpha: WalletService) -> None:
    issuer = Issuer(net.layout, net.rpc_urls[0])
    stranger = issuer.create_funded_account(3 * XUS, b"stranger")
    metadata = Metadata(GeneralMetadataV0(to_subaddress=bytes(7) + b"\x01")).to_bcs()
    alpha_address = bytes.fromhex(alpha.vasp_address())
    payment = stranger.sign(compose_peer_to_peer(alpha_address, 2 * XUS, metadata=metadata), 0,
                            int(time.time()) + 60)
    check_accepted(submit(net.rpc_urls[0], payment))
    view = call_rpc(net.rpc_urls[0], "get_account", [stranger.address.hex()])["result"]

    def refunds() -> list[dict]:
        events = call_rpc(net.rpc_urls[0], "get_events", [view["received_events_key"], 0, 10])["result"]
        return [event for event in events if event["data"]["sender"] == alpha_address.hex()]

    wait_until(refunds, what="the refund")
    refund = refunds()[0]
    original = call_rpc(net.rpc_urls[0], "get_account_transaction", [stranger.address.hex(), 0, False])["result"]
    assert refund["data"]["amount"]["amount"] == 2 * XUS
    decoded = decode_metadata(bytes.fromhex(refund["data"]["metadata"]))
    assert decoded is not None
    assert decoded.value == RefundMetadataV0(original["version"], RefundReason.INVALID_SUBADDRESS)

