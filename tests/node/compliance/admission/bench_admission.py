"""Admission throughput with the four built-in hooks (a benchmark, run by hand: not a test).

    PYTHONPATH=. .venv/bin/python tests/node/compliance/admission/bench_admission.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from contracts.transaction_builder import compose_peer_to_peer
from node.compliance.admission.codes import Accept
from node.compliance.admission.hooks import AmountCap, AmountCapsHook, KycGateHook, SanctionsHook, VelocityHook, VelocityWindow
from node.compliance.admission.pipeline import AdmissionPipeline
from tests.node.compliance.admission.chain import ComplianceChain

XUS = 1_000_000
TRANSACTIONS = 2_000
SANCTIONED_ADDRESSES = 10_000


def main() -> None:
    chain = ComplianceChain()
    alice = chain.create_vasp("alice", 100 * XUS, kyc_tier=2)
    bob = chain.create_vasp("bob", 0, kyc_tier=2)
    folder = Path(tempfile.mkdtemp())
    (folder / "sanctions.txt").write_text("\n".join(f"{i:032x}" for i in range(SANCTIONED_ADDRESSES)))
    hooks = [SanctionsHook(folder / "sanctions.txt"), KycGateHook(1, 0),
             VelocityHook([VelocityWindow(3_600 * 10**6, 10**9, None)]), AmountCapsHook([AmountCap(0, 10**12)])]
    transactions = [alice.sign(compose_peer_to_peer(bob.address, XUS), n, 10**10) for n in range(TRANSACTIONS)]
    for isolation in ("inline", "thread"):
        pipeline = AdmissionPipeline(hooks, 10_000, isolation=isolation)
        pipeline.admit(transactions[0], chain.view())
        started = time.perf_counter()
        for transaction in transactions:
            assert isinstance(pipeline.admit(transaction, chain.view()), Accept)
        elapsed = time.perf_counter() - started
        print(f"{isolation}: {TRANSACTIONS / elapsed:,.0f} admissions/s, {elapsed / TRANSACTIONS * 1e6:.0f} us each")
        pipeline.close()


if __name__ == "__main__":
    main()
