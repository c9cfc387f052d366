"""structlog set-up: JSON lines for machines or a console renderer for people, with epoch and round."""

from __future__ import annotations

import logging
import sys

import structlog

LOG_FORMATS = ("json", "console")
DEFAULT_LOG_LEVEL = "info"


# The node's current position, added to every log line (one node per process).
_position: dict[str, int | str] = {}


def add_position(_logger: object, _method: str, event_dict: dict) -> dict:
    """structlog processor: add the current epoch and round."""
    for key, value in _position.items():
        event_dict.setdefault(key, value)
    return event_dict


def configure_logging(log_format: str = "console", level: str = DEFAULT_LOG_LEVEL) -> None:
    """Route structlog and the standard library's logging through one renderer on stderr."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {LOG_FORMATS}, got {log_format!r}")
    renderer = structlog.processors.JSONRenderer() if log_format == "json" else structlog.dev.ConsoleRenderer()
    shared = [
        structlog.contextvars.merge_contextvars,
        add_position,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processors=[
        structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def bind_position(epoch: int, round_: int) -> None:
    """Attach the current epoch and round to every following log line."""
    _position["epoch"] = epoch
    _position["round"] = round_


def bind_node(name: str) -> None:
    """Attach this node's name to every following log line."""
    _position["node"] = name


def bind_version(version: int) -> None:
    """Attach the last committed version to every following log line."""
    _position["version"] = version


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """Return a structured logger."""
    return structlog.get_logger(name)
