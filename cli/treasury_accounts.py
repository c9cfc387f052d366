"""`stablechain treasury` onboarding: parent VASPs, designated dealers, child accounts and dealer payments.

The same steps as Diem's treasury-compliance scripts: treasury compliance creates the account from the owner's
public key, the VASP sets its own base URL and compliance key (it signs that), treasury compliance adds its
Diem ID domains; a parent VASP creates its children; the designated dealer pays a VASP what it bought.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cli.treasury import (
    CURRENCY,
    KEY_FILE,
    NONCE,
    PASSPHRASE_ENV,
    URL,
    WAIT,
    app,
    error_console,
    execute,
    make_account,
    parse_micro,
    parse_target,
)
from contracts.framework import TESTNET_DD, TREASURY_COMPLIANCE
from contracts.transaction_builder import (
    compose_create_child_vasp,
    compose_create_designated_dealer,
    compose_create_parent_vasp,
    compose_diem_id_domain,
    compose_peer_to_peer,
    compose_rotate_dual_attestation_info,
)
from primitives.keys import PublicKey, compute_auth_key, is_valid_public_key

PUBLIC_KEY_BYTES = 32
AUTH_KEY_PREFIX_BYTES = 16
ED25519_SCHEME = 0
OWNER_KEY = typer.Option(..., "--public-key", help="The new account's Ed25519 public key (hex); its owner keeps the "
                         "private key.")


def parse_public_key(text: str, option: str) -> bytes:
    """Return an Ed25519 public key given in hex; exit with a clear message when it is not one."""
    try:
        key = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        key = b""
    if len(key) != PUBLIC_KEY_BYTES or not is_valid_public_key(key):
        error_console.print(f"[bold red]error:[/] {option} {text!r} is not an Ed25519 public key (64 hex characters)")
        raise typer.Exit(1)
    return key


def parse_owner_key(text: str) -> tuple[bytes, bytes]:
    """Return (address, auth key prefix) of an account owned by this public key; exit when it is not one."""
    key = parse_public_key(text, "--public-key")
    auth_key = compute_auth_key(key, ED25519_SCHEME)
    return PublicKey(key).address(), auth_key[:AUTH_KEY_PREFIX_BYTES]


@app.command("create-vasp")
def create_vasp(public_key: str = OWNER_KEY, name: str = typer.Option(..., "--name", help="The VASP's name."),
                base_url: str = typer.Option(None, "--base-url", help="Its off-chain API base URL (dual attestation)."),
                compliance_key: str = typer.Option(None, "--compliance-key", help="Its compliance public key (hex)."),
                vasp_key_file: Path = typer.Option(None, "--vasp-key-file",
                                                   help="The VASP's own key: signs its base URL and compliance key."),
                domains: list[str] = typer.Option([], "--diem-id-domain", help="A Diem ID domain (repeat)."),
                currency: str = CURRENCY, url: str = URL, key_file: Path = KEY_FILE,
                passphrase_env: str = PASSPHRASE_ENV, sliding_nonce: int = NONCE, wait_s: float = WAIT) -> None:
    """Create a parent VASP account, then set its base URL and compliance key and add its Diem ID domains."""
    address, prefix = parse_owner_key(public_key)
    if (base_url is None) != (compliance_key is None) or (base_url is not None and vasp_key_file is None):
        error_console.print("[bold red]error:[/] give --base-url and --compliance-key together, with --vasp-key-file "
                            "(the VASP signs its own dual-attestation info)")
        raise typer.Exit(1)
    treasury = make_account(key_file, passphrase_env, None, TREASURY_COMPLIANCE)
    execute(f"create parent VASP {name} at {address.hex()}", url, treasury,
            compose_create_parent_vasp(address, prefix, name.encode(), currency, sliding_nonce=sliding_nonce), wait_s)
    if base_url is not None:
        compliance = parse_public_key(compliance_key, "--compliance-key")
        vasp = make_account(vasp_key_file, passphrase_env, None, address)
        execute(f"set {name}'s base URL and compliance key", url, vasp,
                compose_rotate_dual_attestation_info(base_url.encode(), compliance), wait_s)
    for domain in domains:
        execute(f"add Diem ID domain {domain}", url, treasury, compose_diem_id_domain(address, domain.encode()), wait_s)


@app.command("create-dealer")
def create_dealer(public_key: str = OWNER_KEY, name: str = typer.Option(..., "--name", help="The dealer's name."),
                  currency: str = CURRENCY, url: str = URL, key_file: Path = KEY_FILE,
                  passphrase_env: str = PASSPHRASE_ENV, sliding_nonce: int = NONCE, wait_s: float = WAIT) -> None:
    """Create a designated dealer account (treasury compliance mints to dealers)."""
    address, prefix = parse_owner_key(public_key)
    treasury = make_account(key_file, passphrase_env, None, TREASURY_COMPLIANCE)
    execute(f"create designated dealer {name} at {address.hex()}", url, treasury,
            compose_create_designated_dealer(address, prefix, name.encode(), currency, sliding_nonce=sliding_nonce),
            wait_s)


@app.command("create-child")
def create_child(public_key: str = OWNER_KEY,
                 initial_balance: str = typer.Option("0", "--initial-balance", help="Paid from the parent."),
                 currency: str = CURRENCY, url: str = URL,
                 key_file: Path = typer.Option(..., "--key-file", help="The parent VASP's key file."),
                 passphrase_env: str = PASSPHRASE_ENV, wait_s: float = WAIT) -> None:
    """A parent VASP creates a child account (optionally funding it)."""
    address, prefix = parse_owner_key(public_key)
    parent = make_account(key_file, passphrase_env, None, None)
    execute(f"create child account {address.hex()}", url, parent,
            compose_create_child_vasp(address, prefix, parse_micro(initial_balance), currency), wait_s)


@app.command("pay")
def pay(to: str = typer.Option(..., "--to", help="The VASP account to pay."),
        amount: str = typer.Option(..., "--amount", help="e.g. 1000.00"),
        dealer: str = typer.Option(TESTNET_DD.hex(), "--dealer", help="The paying dealer's address."),
        currency: str = CURRENCY, url: str = URL,
        key_file: Path = typer.Option(..., "--key-file", help="The designated dealer's key file."),
        passphrase_env: str = PASSPHRASE_ENV, wait_s: float = WAIT) -> None:
    """The designated dealer pays a VASP (the stablecoin it bought, after a mint)."""
    account = make_account(key_file, passphrase_env, dealer, None)
    execute(f"pay {amount} {currency} to {to}", url, account,
            compose_peer_to_peer(parse_target(to), parse_micro(amount), currency), wait_s)


@app.command("keygen")
def keygen(out: Path = typer.Option(..., "--out", help="Where to write the new private key (owner-readable only)."),
           passphrase_env: str = PASSPHRASE_ENV) -> None:
    """Create an account key for a VASP, a dealer or a child account; print its public key and address."""
    import os

    import nacl.utils

    from node.keys.files import save_private_key
    from primitives.keys import PrivateKey

    if out.exists():
        error_console.print(f"[bold red]error:[/] {out} exists; refusing to overwrite a key")
        raise typer.Exit(1)
    passphrase = os.environ.get(passphrase_env) if passphrase_env else None
    key = PrivateKey(nacl.utils.random(PUBLIC_KEY_BYTES))
    save_private_key(out, key, passphrase)
    typer.echo(f"public key: {key.public_key().hex()}")
    typer.echo(f"address: {key.public_key().address().hex()}")
