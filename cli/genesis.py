"""`stablechain genesis`: the ceremony's issuer keys, the genesis built from public files, and its check."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.table import Table

from cli.common import console, fail

genesis_app = typer.Typer(help="The genesis ceremony: issuer keys, build, verify.", no_args_is_help=True)


def read_passphrase(passphrase_env: str | None) -> str | None:
    """Return the passphrase in the named environment variable (None without one); fail when it is unset."""
    if passphrase_env is None:
        return None
    passphrase = os.environ.get(passphrase_env)
    if passphrase is None:
        fail(f"environment variable {passphrase_env} is not set")
    return passphrase


@genesis_app.command("issuer-keys")
def issuer_keys(
    directory: Path = typer.Option(..., "--dir", help="Where to create the issuer's keys and issuer.json."),
    passphrase_env: str = typer.Option(None, help="Encrypt the keys with the passphrase in this variable."),
) -> None:
    """Create the issuer's root, treasury compliance, dealer and auditor keys and the public issuer.json."""
    from node.ceremony import ISSUER_FILE, CeremonyError, create_issuer_keys

    try:
        issuer = create_issuer_keys(directory, read_passphrase(passphrase_env))
    except CeremonyError as error:
        fail(str(error))
    table = Table(title=f"issuer keys in {directory} (publish only {directory / ISSUER_FILE})")
    table.add_column("role")
    table.add_column("public key")
    for role, key in (("root", issuer.root_public_key), ("treasury compliance", issuer.treasury_public_key),
                      ("designated dealer", issuer.dealer_public_key), ("reserve auditor", issuer.auditor_public_key)):
        table.add_row(role, key.hex())
    console.print(table)


@genesis_app.command("build")
def build(
    issuer: Path = typer.Option(..., "--issuer", help="The issuer's public issuer.json."),
    operators: list[Path] = typer.Option(..., "--operator", help="An operator's operator.json (repeat)."),
    chain_id: int = typer.Option(..., "--chain-id", min=0, max=255, help="The network's chain id."),
    out: Path = typer.Option(..., "--out", help="Where to write genesis.json."),
    stake_xus: int = typer.Option(1_000_000, "--stake-xus", min=1, help="Each operator's stake at genesis."),
    reserves_xus: int = typer.Option(1_000_000_000, "--initial-reserves-xus", min=1,
                                     help="Reserves the auditor attests at genesis (stakes are minted within them)."),
) -> None:
    """Build genesis.json from the issuer's and operators' public files and print its waypoint."""
    from node.ceremony import MICRO_PER_XUS, CeremonyError, GenesisOptions, compose_genesis, load_ceremony_files
    from node.genesis import GenesisFileError, build_genesis_commit, save_genesis_file

    try:
        issuer_file, operator_files = load_ceremony_files(issuer, operators)
        if stake_xus * len(operator_files) > reserves_xus:
            raise CeremonyError(f"{len(operator_files)} stakes of {stake_xus} XUS exceed the {reserves_xus} XUS "
                                "of initial reserves: raise --initial-reserves-xus")
        options = GenesisOptions(chain_id, (stake_xus * MICRO_PER_XUS,) * len(operator_files),
                                 initial_reserves_micro=reserves_xus * MICRO_PER_XUS)
        config = compose_genesis(issuer_file, operator_files, options)
        _commit, genesis_hash, _validators = build_genesis_commit(config)
    except (CeremonyError, GenesisFileError) as error:
        fail(str(error))
    save_genesis_file(out, config)
    console.print(f"wrote {out} ({len(operator_files)} validators, chain id {chain_id})")
    console.print(f"waypoint: {genesis_hash.hex()}")


@genesis_app.command("verify")
def verify(genesis: Path = typer.Argument(..., help="The genesis.json to check."),
           waypoint: str = typer.Option(None, "--waypoint", help="Fail unless the file has this waypoint.")) -> None:
    """Print a genesis file's waypoint and validator set, to compare with the other operators out of band."""
    from node.genesis import GenesisFileError, build_genesis_commit, load_genesis_file

    try:
        config = load_genesis_file(genesis)
        _commit, genesis_hash, validators = build_genesis_commit(config)
    except GenesisFileError as error:
        fail(str(error))
    table = Table(title=f"{genesis}: chain id {config.chain_id}, {len(validators.members)} validators")
    for column in ("name", "address", "voting power", "consensus key", "network key", "network addresses"):
        table.add_column(column)
    names = {validator.address: validator.human_name.decode(errors="replace") for validator in config.validators}
    for member in validators.members:
        table.add_row(names.get(member.address, ""), member.address.hex(), str(member.voting_power),
                      member.consensus_public_key.hex(), member.network_public_key.hex(),
                      ", ".join(address.decode("ascii", errors="replace") for address in member.network_addresses))
    console.print(table)
    console.print(f"waypoint: {genesis_hash.hex()}")
    if waypoint is not None and waypoint.lower() != genesis_hash.hex():
        fail(f"the waypoint is {genesis_hash.hex()}, not {waypoint}: this is not the genesis the network agreed on")
