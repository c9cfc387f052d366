"""Replay: the same seed gives the same run, event for event; the command line reports seeds."""

from __future__ import annotations

from tests.sim.__main__ import get_replay_command, main
from tests.sim.config import FaultMix, SimConfig
from tests.sim.world import run_seed

CONFIG = SimConfig(validators=4, byzantine=1, faults=FaultMix(
    drop_probability=0.1, duplicate_probability=0.05, partition_phases=2, crash_probability=0.005,
    twins=True))


def test_same_seed_gives_an_identical_trace() -> None:
    for seed in (0, 7, 42):
        first = run_seed(seed, CONFIG)
        second = run_seed(seed, CONFIG)
        assert first.trace_digest == second.trace_digest
        assert first.event_count == second.event_count > 100
        assert first.trace_lines == second.trace_lines


def test_different_seeds_give_different_runs() -> None:
    digests = {run_seed(seed, CONFIG).trace_digest for seed in range(5)}
    assert len(digests) == 5


def test_command_line_runs_seeds_and_exits_zero(capsys) -> None:
    code = main(["--seeds", "3", "--first-seed", "10", "--validators", "4", "--byzantine", "1",
                 "--twins", "--drop", "0.05", "--partitions", "1", "--crashes", "0.003"])
    output = capsys.readouterr().out
    assert code == 0, output
    assert "3 seeds, 0 failed" in output and "seeds/s" in output


def test_replay_command_pins_the_failing_seed() -> None:
    command = get_replay_command(["--seeds", "100", "--validators", "7", "--first-seed=5", "--twins"], 17)
    assert command == "python -m tests.sim --seeds 1 --first-seed 17 --validators 7 --twins"
