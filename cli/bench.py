"""`stablechain status` and the benchmarks: committed throughput, JSON-RPC reads, catch-up, the executor."""

from __future__ import annotations

from typing import Optional

import typer

from cli.common import console, fail

DEFAULT_RPC_URL = "http://127.0.0.1:8080/v1"


def status(url: str = typer.Option(DEFAULT_RPC_URL, help="A node's JSON-RPC URL.")) -> None:
    """Show a node's chain id, ledger version and timestamp."""
    from devnet.launcher import call_rpc

    try:
        response = call_rpc(url, "get_metadata", [])
    except OSError as error:
        fail(f"{url}: {error}")
    result = response.get("result") or {}
    console.print(f"chain id {response['diem_chain_id']}  version {response['diem_ledger_version']}  "
                  f"timestamp {response['diem_ledger_timestampusec']} µs  accumulator {result.get('accumulator_root_hash')}")


def bench(
    validators: int = typer.Option(4, help="Validators in the benchmark's own devnet."),
    duration: float = typer.Option(60.0, help="Seconds of load."),
    rate: float = typer.Option(0.0, help="Transfers submitted per second (0 = as fast as possible)."),
    accounts: int = typer.Option(1_000, help="Sending accounts (each pays the next one: not a hot set)."),
    base_port: int = typer.Option(28080, help="JSON-RPC base port of the benchmark devnet."),
    in_flight: int = typer.Option(32, "--in-flight", min=1, help="Uncommitted transfers per account (1: closed-loop "
                                  "clients that pay again once the previous payment committed)."),
    kill_validator_after: Optional[float] = typer.Option(
        None, "--kill-validator-after", help="SIGKILL the last validator after this many seconds of load; "
        "report the rates before it and from 10 s after it."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Measure committed transfers/s and submit-to-commit latency on a fresh local devnet."""
    from devnet.bench import format_result, run_bench

    if kill_validator_after is not None and not 0 < kill_validator_after < duration:
        fail("--kill-validator-after must lie inside the load's duration")
    try:
        result = run_bench(validators, duration, rate, base_port, accounts,
                           kill_validator_after_s=kill_validator_after, in_flight_per_account=in_flight)
    except (RuntimeError, OSError) as error:
        fail(f"benchmark failed: {error}")
    typer.echo(format_result(result, as_json))


def bench_rpc(
    duration: float = typer.Option(20.0, help="Seconds of load."),
    clients: int = typer.Option(32, help="Concurrent HTTP clients."),
    base_port: int = typer.Option(28180, help="JSON-RPC port of the one-node devnet."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Measure get_account requests per second served by one node."""
    from devnet.bench_rpc import format_rpc_result, run_rpc_bench

    try:
        result = run_rpc_bench(duration, base_port, clients)
    except (RuntimeError, OSError) as error:
        fail(f"benchmark failed: {error}")
    typer.echo(format_rpc_result(result, as_json))


def bench_catchup(
    validators: int = typer.Option(4, help="Validators in the benchmark's own devnet."),
    load: float = typer.Option(30.0, help="Seconds of transfers before the last validator's database is wiped."),
    base_port: int = typer.Option(28280, help="JSON-RPC base port of the benchmark devnet."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Measure how fast a validator that lost its database catches up (versions replayed per second)."""
    from devnet.bench_catchup import format_catchup_result, run_catchup_bench

    try:
        result = run_catchup_bench(validators, load, base_port)
    except (RuntimeError, OSError) as error:
        fail(f"benchmark failed: {error}")
    typer.echo(format_catchup_result(result, as_json))


def read_verified_accounts(url: str, waypoint: str, chain_id: int, addresses: list[bytes]) -> tuple[int, list]:
    """Return (verified version, (sequence number, XUS balance) per address), read through the wallet's proofs."""
    import asyncio

    from wallet.client import Client
    from wallet.verifying_client import VerifyingClient

    async def read() -> tuple[int, list]:
        async with Client(url, chain_id=chain_id) as client:
            verifying = VerifyingClient.from_waypoint(client, waypoint, chain_id)
            states = [await verifying.get_account_state(address) for address in addresses]
        return states[0].version, [(state.sequence_number, state.get_balance()) for state in states]

    return asyncio.run(read())


def bench_sync(
    validators: int = typer.Option(4, help="Validators in the benchmark's own devnet."),
    load: float = typer.Option(30.0, help="Seconds of transfers before the last validator rejoins by fast sync."),
    accounts: int = typer.Option(64, help="Funded sending accounts (the state grows with them, not the history)."),
    base_port: int = typer.Option(28380, help="JSON-RPC base port of the benchmark devnet."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Measure how long a new node takes to fast-sync and serve reads a wallet verifies."""
    from devnet.bench_sync import format_sync_result, run_sync_bench

    try:
        result = run_sync_bench(validators, load, base_port, accounts, read_verified_accounts)
    except (RuntimeError, OSError) as error:
        fail(f"benchmark failed: {error}")
    typer.echo(format_sync_result(result, as_json))


def soak(
    transactions: int = typer.Option(1_000_000, help="Transfers to commit before the run ends."),
    retention: int = typer.Option(100_000, help="Versions of history and state each validator keeps (0: all)."),
    accounts: int = typer.Option(64, help="Funded sending accounts."),
    slice_s: float = typer.Option(60.0, "--slice", help="Seconds between measurements."),
    base_port: int = typer.Option(28480, help="JSON-RPC base port of the soak devnet."),
    fast_sync: bool = typer.Option(True, help="At the end, time a wiped validator's fast sync onto the soaked chain."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Run a long saturating load with pruning on; report RSS, database size and throughput over time."""
    from devnet.soak import format_soak_result, run_soak

    reader = read_verified_accounts if fast_sync else None
    try:
        result = run_soak(4, transactions, retention, accounts, slice_s, base_port, reader)
    except (RuntimeError, OSError) as error:
        fail(f"soak failed: {error}")
    typer.echo(format_soak_result(result, as_json))


def bench_executor(
    block_size: int = typer.Option(1000, help="Transfers per block."),
    blocks: int = typer.Option(10, help="Blocks to execute."),
    accounts: int = typer.Option(100_000, help="Funded accounts (the state's size)."),
) -> None:
    """Measure executed peer-to-peer transfers per second on one core, state root included."""
    import sys

    from contracts import bench

    sys.argv = ["contracts.bench", "--block-size", str(block_size), "--blocks", str(blocks), "--accounts", str(accounts)]
    bench.main()
