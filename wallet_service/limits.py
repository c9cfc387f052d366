"""Every limit and interval of the wallet service, in one place, with its unit in its name."""

from __future__ import annotations

from primitives.errors import invariant

REQUEST_BODY_BYTES_MAX = 64 * 1024          # a MiniWallet request is a few hundred bytes
OFFCHAIN_BODY_BYTES_MAX = 256 * 1024        # a signed PaymentCommand with full KYC data stays far below
JSON_DEPTH_MAX = 16
KYC_FIELD_LENGTH_MAX = 512
HANDLE_LENGTH_MAX = 64                      # DIP-10 user part
DOMAIN_LENGTH_MAX = 63                      # DIP-10 domain part
IDEMPOTENCY_KEY_LENGTH_MAX = 128
AMOUNT_MICRO_MAX = 2**63 - 1                # SQLite integers are signed 64-bit; no real amount comes near
EVENTS_PAGE_MAX = 1_000                     # events returned by one GET /accounts/{id}/events

SENDER_INTERVAL_S = 0.2                     # how often pending payments are advanced
WATCHER_INTERVAL_S = 0.3                    # how often received-payment events are polled
WATCHER_PAGE_SIZE = 100                     # events fetched per get_events call
OUTBOX_INTERVAL_S = 0.1
TRANSACTION_EXPIRATION_S = 60               # signed payments expire after this; then they are re-signed
TRANSACTIONS_IN_FLIGHT_MAX = 16             # signed but unconfirmed payments at once
SUBMIT_GAS_MAX = 1_000_000

OFFCHAIN_HTTP_TIMEOUT_S = 10.0
OFFCHAIN_RETRY_BASE_S = 0.2
OFFCHAIN_RETRY_CAP_S = 30.0
OFFCHAIN_ATTEMPTS_MAX = 50                  # then the payment is canceled: the counterparty never answered

WEBHOOK_TIMEOUT_S = 10.0
WEBHOOK_RETRY_BASE_S = 0.5
WEBHOOK_RETRY_CAP_S = 300.0
WEBHOOK_ATTEMPTS_MAX = 100                  # about eight hours at the cap, then the delivery is parked

FLOAT_MINT_MICRO = 3_000_000_000_000        # devnet only: what the faucet gives the service's parent VASP
DOMAIN_MAP_REFRESH_S = 5.0

invariant(OFFCHAIN_RETRY_BASE_S < OFFCHAIN_RETRY_CAP_S, "off-chain backoff must grow")
invariant(WEBHOOK_RETRY_BASE_S < WEBHOOK_RETRY_CAP_S, "webhook backoff must grow")
invariant(WATCHER_PAGE_SIZE <= 1_000, "get_events pages are capped by the node at 1000")
