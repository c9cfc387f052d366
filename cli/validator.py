"""`stablechain validator`: an operator registers, stakes, unstakes and rotates keys (effective next epoch)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console

from cli.treasury import KEY_FILE, PASSPHRASE_ENV, SENDER, URL, WAIT, execute, make_account, parse_micro, parse_target
from primitives.keys import PrivateKey, is_valid_public_key
from primitives.network_address import NETWORK_ADDRESSES_MAX, parse_network_address
from wallet.errors import WalletError
from wallet.treasury import load_signing_key
from wallet.validator import (
    compose_add_stake,
    compose_register,
    compose_rotate,
    compose_set_address,
    compose_simple,
    compose_unlock_stake,
    fetch_status,
)

PUBLIC_KEY_LENGTH = 32

app = typer.Typer(help="Validator operators: register, stake, unstake, rotate keys, status.", no_args_is_help=True)
console = Console(soft_wrap=True)
error_console = Console(stderr=True, soft_wrap=True)


# -------------------------------------------------------------- keys
def read_public_key(key_file: Path | None, public_hex: str | None, passphrase_env: str | None, what: str) -> bytes:
    """Return a public key from a private key file (its public half) or from hex; exit on anything invalid."""
    if (key_file is None) == (public_hex is None):
        _fail(f"give exactly one of --{what}-key-file and --{what}-public-key")
    try:
        public = (load_signing_key(key_file, passphrase_env).public_key().data if key_file is not None
                  else bytes.fromhex(public_hex.removeprefix("0x")))  # type: ignore[union-attr]
    except (WalletError, ValueError) as error:
        _fail(f"{what} key: {error}")
    if len(public) != PUBLIC_KEY_LENGTH or not is_valid_public_key(public):
        _fail(f"{what} key: not a valid Ed25519 public key")
    return public


def _fail(message: str) -> None:
    error_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(1)


# -------------------------------------------------------------- commands
NEXT_EPOCH = "takes effect at the next epoch"


@app.command("register")
def register(name: str = typer.Option(..., "--name", help="Human-readable validator name."),
             consensus_key_file: Path = typer.Option(None, "--consensus-key-file", help="The node's consensus key file."),
             consensus_public_key: str = typer.Option(None, "--consensus-public-key", help="Or its public key (hex)."),
             network_key_file: Path = typer.Option(None, "--network-key-file", help="The node's network key file."),
             network_public_key: str = typer.Option(None, "--network-public-key", help="Or its public key (hex)."),
             url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV, sender: str = SENDER,
             wait_s: float = WAIT) -> None:
    """Publish the operator's stake pool with its consensus and network keys (the operator must be allowlisted)."""
    consensus = read_public_key(consensus_key_file, consensus_public_key, passphrase_env, "consensus")
    network = read_public_key(network_key_file, network_public_key, passphrase_env, "network")
    account = make_account(key_file, passphrase_env, sender, None)
    execute(f"register validator {name}", url, account, compose_register(consensus, network, name.encode()), wait_s)


@app.command("stake")
def stake(amount: str = typer.Option(..., "--amount", help="XUS to lock, e.g. 1000000.00"),
          join: bool = typer.Option(True, "--join/--no-join", help="Also ask to join the validator set."),
          url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV, sender: str = SENDER,
          wait_s: float = WAIT) -> None:
    """Lock XUS from the operator's balance as stake and (by default) join the set; both take effect next epoch."""
    account = make_account(key_file, passphrase_env, sender, None)
    execute(f"stake {amount} XUS ({NEXT_EPOCH})", url, account, compose_add_stake(parse_micro(amount)), wait_s)
    if join:
        status = asyncio.run(fetch_status(url, account.address))
        if not status.get("in_validator_set") and not status.get("pending_join"):
            execute(f"join the validator set ({NEXT_EPOCH})", url, account, compose_simple("join_validator_set"),
                    wait_s)


@app.command("unstake")
def unstake(amount: str = typer.Option(None, "--amount", help="XUS to start unbonding at the next epoch."),
            leave: bool = typer.Option(False, "--leave", help="Also leave the validator set at the next epoch."),
            withdraw: bool = typer.Option(False, "--withdraw", help="Pay out unbonded stake and fee rewards now."),
            url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV, sender: str = SENDER,
            wait_s: float = WAIT) -> None:
    """Leave the set, unlock stake (unbonding starts next epoch), or withdraw what finished unbonding."""
    if amount is None and not leave and not withdraw:
        _fail("give --amount, --leave and/or --withdraw")
    account = make_account(key_file, passphrase_env, sender, None)
    if leave:
        execute(f"leave the validator set ({NEXT_EPOCH})", url, account, compose_simple("leave_validator_set"), wait_s)
    if amount is not None:
        execute(f"unlock {amount} XUS (unbonding starts at the next epoch)", url, account,
                compose_unlock_stake(parse_micro(amount)), wait_s)
    if withdraw:
        execute("withdraw unbonded stake and rewards", url, account, compose_simple("withdraw_stake"), wait_s)


def _rotate(consensus: bool, key_file_new: Path | None, public_hex: str | None, url: str, key_file: Path,
            passphrase_env: str | None, sender: str | None, wait_s: float) -> None:
    what = "consensus" if consensus else "network"
    new_key = read_public_key(key_file_new, public_hex, passphrase_env, f"new-{what}")
    account = make_account(key_file, passphrase_env, sender, None)
    execute(f"rotate the {what} key to {new_key.hex()} ({NEXT_EPOCH}; keep the old key running until then)",
            url, account, compose_rotate(new_key, consensus=consensus), wait_s)


@app.command("rotate-consensus-key")
def rotate_consensus_key(new_key_file: Path = typer.Option(None, "--new-consensus-key-file"),
                         new_public_key: str = typer.Option(None, "--new-consensus-public-key"),
                         url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV,
                         sender: str = SENDER, wait_s: float = WAIT) -> None:
    """Replace the consensus key at the next epoch (the node signs with the old key until then)."""
    _rotate(True, new_key_file, new_public_key, url, key_file, passphrase_env, sender, wait_s)


@app.command("rotate-network-key")
def rotate_network_key(new_key_file: Path = typer.Option(None, "--new-network-key-file"),
                       new_public_key: str = typer.Option(None, "--new-network-public-key"),
                       url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV,
                       sender: str = SENDER, wait_s: float = WAIT) -> None:
    """Replace the network key at the next epoch (peers accept the new key from then on)."""
    _rotate(False, new_key_file, new_public_key, url, key_file, passphrase_env, sender, wait_s)


@app.command("set-address")
def set_address(address: list[str] = typer.Option(..., "--address", help="HOST:PORT peers dial (repeat for more)."),
                url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV, sender: str = SENDER,
                wait_s: float = WAIT) -> None:
    """Move the validator: peers dial these addresses from the next epoch, which this request brings about."""
    parsed = [parse_network_address(text) for text in address]
    if any(item is None for item in parsed) or len(address) > NETWORK_ADDRESSES_MAX:
        _fail(f"--address takes 1 to {NETWORK_ADDRESSES_MAX} HOST:PORT addresses, got {address}")
    account = make_account(key_file, passphrase_env, sender, None)
    encoded = tuple(item.encode() for item in parsed if item is not None)
    execute(f"set the network address to {', '.join(address)} ({NEXT_EPOCH}; listen there before it starts)",
            url, account, compose_set_address(encoded), wait_s)


@app.command("status")
def status(address: str = typer.Option(None, "--address", help="The operator address (default: the key file's)."),
           key_file: Path = typer.Option(None, "--key-file"), passphrase_env: str = PASSPHRASE_ENV,
           url: str = URL) -> None:
    """Show the pool: stake by state, voting power, pending requests, unbonding schedule, rewards, epoch."""
    if address is None and key_file is None:
        _fail("give --address or --key-file")
    target = parse_target(address) if address else _address_of(key_file, passphrase_env)
    try:
        summary = asyncio.run(fetch_status(url, target))
    except WalletError as error:
        _fail(str(error))
    for field, value in summary.items():
        console.print(f"{field}: {value}")


def _address_of(key_file: Path, passphrase_env: str | None) -> bytes:
    try:
        key: PrivateKey = load_signing_key(key_file, passphrase_env)
    except WalletError as error:
        _fail(str(error))
    return key.public_key().address()
