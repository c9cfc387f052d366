"""The wallet's typed errors: every failure a caller or the CLI must tell apart has its own class."""

from __future__ import annotations

from typing import Any


class WalletError(Exception):
    """Base of every error the wallet raises on purpose (the CLI prints these without a traceback)."""


class KeystoreError(WalletError):
    """A keystore file is missing, unreadable or malformed."""


class WrongPassphraseError(KeystoreError):
    """The passphrase does not open this keystore file."""


class AmountError(WalletError, ValueError):
    """A human amount is not a valid non-negative number with at most 6 decimals."""


class NetworkError(WalletError):
    """The node could not be reached or answered with a non-2xx HTTP status."""


class InvalidServerResponse(WalletError):
    """The node's answer is not a well-formed JSON-RPC response (or is for another chain)."""


class StaleResponseError(WalletError):
    """The node answered from a ledger older than one this client has already seen."""


class JsonRpcError(WalletError):
    """The node answered with a JSON-RPC error object."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{message} (code {code})")
        self.code = code
        self.message = message
        self.data = data


class AccountNotFoundError(WalletError):
    """The account does not exist on chain."""


class TransactionError(WalletError):
    """Base of the outcomes of wait_for_transaction other than success."""


class TransactionHashMismatchError(TransactionError):
    """The committed transaction at (sender, sequence) is not the one we submitted."""


class TransactionExecutionFailed(TransactionError):
    """The transaction was committed but did not execute (move abort, out of gas, ...)."""

    def __init__(self, message: str, transaction: Any) -> None:
        super().__init__(message)
        self.transaction = transaction


class TransactionExpired(TransactionError):
    """The ledger clock passed the transaction's expiration before it was committed."""


class WaitForTransactionTimeout(TransactionError):
    """The transaction was not committed within the caller's timeout."""


class FaucetError(WalletError):
    """The faucet refused the mint request or returned something unreadable."""


class VerificationError(WalletError):
    """A response failed cryptographic verification against the trusted validator set."""
