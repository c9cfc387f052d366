"""What the node plugs in for compliance: the admitting submit, the velocity feed, the regulator listener."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from aiohttp import web

from node.compliance.admission.feed import TransferFeed
from node.compliance.admission.hooks import build_pipeline, get_retention_us
from node.compliance.admission.pipeline import AdmissionPipeline, RejectionLog, Submit, make_admitting_submit
from node.compliance.admission.view import InMemoryTransferTracker, TransferRecord, make_view_provider
from node.compliance.index.queries import ComplianceIndex
from node.compliance.regulator.server import RegulatorApi, build_regulator_api, start_regulator_server
from node.config import NodeConfig
from node.keys.files import load_passphrase, load_private_key
from node.rpc.ledger import LedgerReader
from node.rpc.submit import Submit as RpcSubmit
from node.runtime.wire import CommitNotice
from primitives.keys import PrivateKey

log = structlog.get_logger(__name__)


class NoTransfers:
    """The transfer history when no hook needs one."""

    def get_outgoing(self, address: bytes, since_us: int) -> list[TransferRecord]:
        return []


NO_TRANSFERS = NoTransfers()


@dataclass
class Compliance:
    """Admission (None when [admission].hooks is empty) and the regulator API (None without [regulator])."""

    pipeline: AdmissionPipeline | None
    tracker: InMemoryTransferTracker | None
    feed: TransferFeed | None
    regulator: RegulatorApi | None
    regulator_runner: web.AppRunner | None = None
    regulator_port: int | None = None

    def wrap_submit(self, ledger: LedgerReader, submit: Submit) -> RpcSubmit:
        """Return the submit callable to give create_dispatcher: admission, then the mempool."""
        if self.pipeline is None:
            return submit
        history = self.tracker if self.tracker is not None else NO_TRANSFERS
        return make_admitting_submit(self.pipeline, make_view_provider(ledger, history), submit, self.tracker,
                                     ledger.chain_id)

    def on_commit(self, _notice: CommitNotice | None = None) -> None:
        """Runtime commit listener: count newly committed payments (from any node) for velocity limits."""
        if self.feed is None:
            return
        try:
            self.feed.catch_up()
        except Exception as error:  # noqa: BLE001 - a listener must never stop the runtime; the next commit retries
            log.warning("admission transfer feed failed", error=str(error))

    async def start(self, host: str, port: int) -> None:
        """Start the regulator listener, if configured."""
        if self.regulator is not None:
            self.regulator_runner, self.regulator_port = await start_regulator_server(self.regulator, host, port)

    async def stop(self) -> None:
        """Stop the regulator listener and the admission workers."""
        if self.regulator_runner is not None:
            await self.regulator_runner.cleanup()
            self.regulator_runner = None
        if self.regulator is not None:
            await self.regulator.flush_throttled(is_forced=True)  # counts of throttled refusals are not lost
        if self.pipeline is not None:
            self.pipeline.close()


def build_compliance(config: NodeConfig, ledger: LedgerReader, index: ComplianceIndex | None = None,
                     network_key: PrivateKey | None = None) -> Compliance:
    """Return the compliance parts of a NodeConfig (warming the velocity history); regulator answers are signed by network_key."""
    # Without a key given, the regulator API reads the one in keys.network_key_file (the node passes the one it loaded).
    pipeline = build_pipeline(config.admission, config.data_dir) if config.admission.hooks else None
    retention_us = 0 if pipeline is None else get_retention_us(pipeline)
    tracker = InMemoryTransferTracker(retention_us) if retention_us > 0 else None
    feed = None if tracker is None else TransferFeed(ledger, tracker)
    if feed is not None:
        feed.warm_up()
    rejections: RejectionLog | None = None if pipeline is None else pipeline.rejections
    regulator = None
    if config.regulator is not None:
        if network_key is None:
            network_key = load_private_key(config.keys.network_key_file, load_passphrase(config.keys.passphrase_env))
        regulator = build_regulator_api(config.regulator, ledger, rejections, config.data_dir, network_key, index=index)
    return Compliance(pipeline, tracker, feed, regulator)
