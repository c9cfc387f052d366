"""Command line: `python -m tests.sim --seeds N [--first-seed S] --validators V --byzantine F`."""

from __future__ import annotations

import argparse
import sys
import time

from tests.sim.availability import AVAILABILITY_RATIO_MIN, run_availability
from tests.sim.bugs import BUGS
from tests.sim.config import FaultMix, SimConfig
from tests.sim.result import SeedResult
from tests.sim.world import run_seed

# --join-leave removes this validator (and adds validator --validators, a joiner).
JOIN_LEAVE_LEAVER = 1


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m tests.sim", description=__doc__)
    parser.add_argument("--seeds", type=int, default=100, help="how many seeds to run")
    parser.add_argument("--first-seed", type=int, default=0, help="first seed of the range")
    parser.add_argument("--validators", type=int, default=4)
    parser.add_argument("--byzantine", type=int, default=0,
                        help="Byzantine validator count (silent unless --twins or --stale-leaders)")
    parser.add_argument("--stakes", type=str, default="",
                        help="comma-separated voting powers (raw stakes with --power-cap-bps)")
    parser.add_argument("--power-cap-bps", type=int, default=0,
                        help="powers = the framework's capped stakes (e.g. 3333); 0: stakes are powers")
    parser.add_argument("--join-leave", type=int, default=0, metavar="HEIGHT",
                        help="one more validator joins and validator 1 leaves at the block of this height")
    parser.add_argument("--slash-twins", action="store_true",
                        help="twins with Ed25519 keys; honest nodes' evidence is executed: slash and remove")
    parser.add_argument("--drop", type=float, default=0.05, help="message loss probability")
    parser.add_argument("--duplicate", type=float, default=0.02, help="duplication probability")
    parser.add_argument("--delay", type=int, default=40, help="maximum network delay in ticks")
    parser.add_argument("--partitions", type=int, default=1, help="partition phases per seed")
    parser.add_argument("--crashes", type=float, default=0.002, help="crash probability per step")
    parser.add_argument("--twins", action="store_true", help="Byzantine validators run as twins")
    parser.add_argument("--stale-leaders", action="store_true",
                        help="Byzantine validators withhold proposals and propose on stale QCs")
    parser.add_argument("--disk-loss", action="store_true",
                        help="crashed nodes restart with an empty disk (violations expected)")
    parser.add_argument("--real-crypto", action="store_true", help="Ed25519 instead of fake sigs")
    parser.add_argument("--reputation", action="store_true", help="leader reputation, as nodes run by default")
    parser.add_argument("--no-reputation", action="store_true",
                        help="with --availability: power-weighted election only (the control, which fails)")
    parser.add_argument("--rounds", type=int, default=20, help="rounds of chaos before the heal")
    parser.add_argument("--epoch-every", type=int, default=0,
                        help="reconfigure at every block height divisible by this (0: never)")
    parser.add_argument("--inject-bug", choices=sorted(BUGS), default=None,
                        help="run a known-buggy copy of the rules (the run should fail)")
    parser.add_argument("--no-persist-check", action="store_true",
                        help="skip the persist-before-send checker (see what the bug leads to)")
    parser.add_argument("--no-liveness", action="store_true", help="skip the liveness check")
    parser.add_argument("--verbose", action="store_true", help="print one line per seed")
    parser.add_argument("--availability", action="store_true",
                        help="measure the commit rate with f validators crashed, partitioned or flapping against "
                             "the all-up run of each seed (tests/sim/availability.py); fails below 90 %%")
    return parser.parse_args(argv)


def get_config(args: argparse.Namespace) -> SimConfig:
    """Build the run configuration from the parsed arguments."""
    stakes = tuple(int(s) for s in args.stakes.split(",")) if args.stakes else None
    joiners = 1 if args.join_leave else 0
    set_changes: tuple[tuple[int, tuple[int, ...]], ...] = ()
    if args.join_leave:
        members = tuple(v for v in range(args.validators + 1) if v != JOIN_LEAVE_LEAVER)
        set_changes = ((args.join_leave, members),)
    if stakes is not None and len(stakes) == args.validators and joiners:
        stakes = stakes + (stakes[-1],)  # the joiner stakes as much as the last validator
    faults = FaultMix(
        drop_probability=args.drop,
        duplicate_probability=args.duplicate,
        delay_ticks_max=args.delay,
        partition_phases=args.partitions,
        crash_probability=args.crashes,
        twins=args.twins or args.slash_twins,
        stale_leaders=args.stale_leaders,
        disk_loss=args.disk_loss,
    )
    return SimConfig(
        validators=args.validators,
        byzantine=args.byzantine,
        faults=faults,
        rounds=args.rounds,
        stakes=stakes,
        real_crypto=args.real_crypto or args.slash_twins,
        check_liveness=not args.no_liveness,
        check_persist_before_send=not args.no_persist_check,
        epoch_interval=args.epoch_every,
        leader_reputation=args.reputation,
        joiners=joiners,
        set_changes=set_changes,
        power_cap_bps=args.power_cap_bps,
        slash_evidence=args.slash_twins,
        payload_transactions_min=1 if args.join_leave else 0,
    )


def print_failure(result: SeedResult) -> None:
    """Print the failing seed, the broken invariant and the last events."""
    print(f"FAILED seed={result.seed} invariant={result.invariant_name}")
    print(f"  {result.detail}")
    print(f"  after {result.event_count} events, tick {result.tick}, trace sha256 {result.trace_digest[:16]}")
    print("  last events:")
    for line in result.trace_lines:
        print(f"    {line}")


def get_replay_command(argv: list[str], seed: int) -> str:
    """Return the command that replays exactly one seed with the same options."""
    kept: list[str] = []
    skip_next = False
    for argument in argv:
        if skip_next:
            skip_next = False
            continue
        name = argument.split("=", 1)[0]
        if name in ("--seeds", "--first-seed"):
            skip_next = "=" not in argument
            continue
        kept.append(argument)
    return " ".join(["python -m tests.sim --seeds 1 --first-seed", str(seed), *kept])


def main_availability(args: argparse.Namespace) -> int:
    """Run the availability scenarios; return 0 when every seed kept 90 % of its all-up commit rate."""
    started = time.perf_counter()
    results = run_availability(range(args.first_seed, args.first_seed + args.seeds), args.validators,
                               reputation=not args.no_reputation)
    failures = [result for result in results if result.ratio < AVAILABILITY_RATIO_MIN]
    for result in results:
        if args.verbose or result in failures:
            print(("FAILED " if result in failures else "") + result.describe())
    worst = min(results, key=lambda result: result.ratio)
    print(f"{len(results)} outage runs, {len(failures)} below {AVAILABILITY_RATIO_MIN:.0%}, worst "
          f"{worst.ratio:.0%} ({worst.outage.describe()}, seed {worst.seed}), {time.perf_counter() - started:.1f} s")
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    """Run the seeds; return 0 when every seed held every invariant."""
    args = parse_args(argv)
    if args.availability:
        return main_availability(args)
    config = get_config(args)
    rules, step = BUGS[args.inject_bug] if args.inject_bug else (None, None)
    started = time.perf_counter()
    failures = 0
    commits = 0
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        result = run_seed(seed, config, safety_rules=rules, step=step)
        commits += result.committed_height
        if args.verbose:
            print(result.summary())
        if not result.is_ok:
            failures += 1
            print_failure(result)
            print("replay: " + get_replay_command(argv, seed))
            break
    elapsed_s = time.perf_counter() - started
    ran = (seed - args.first_seed + 1) if args.seeds else 0
    rate = ran / elapsed_s if elapsed_s > 0 else 0.0
    print(
        f"{ran} seeds, {failures} failed, {commits} blocks committed, "
        f"{elapsed_s:.1f} s, {rate:.2f} seeds/s"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
