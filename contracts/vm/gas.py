"""Deterministic gas metering: a named schedule charged per operation and per byte."""

from __future__ import annotations

from dataclasses import dataclass

from primitives.limits import MAX_GAS_UNITS, MAX_TRANSACTION_SIZE_BYTES


@dataclass(frozen=True, slots=True)
class GasSchedule:
    """Gas units charged by the VM (external units, what `gas_used` reports)."""

    name: str = "stablechain-v1"
    min_transaction_gas_units: int = 600
    large_transaction_cutoff_bytes: int = 600
    intrinsic_gas_per_byte: int = 8
    gas_unit_scaling_factor: int = 1000
    resource_read_units: int = 2
    resource_write_units: int = 4
    event_units: int = 4
    event_per_byte_units: int = 1
    call_units: int = 2
    maximum_number_of_gas_units: int = MAX_GAS_UNITS
    max_transaction_size_bytes: int = MAX_TRANSACTION_SIZE_BYTES

    def get_intrinsic_gas_units(self, transaction_size_bytes: int) -> int:
        """Return the size-dependent base cost of a transaction (Diem's intrinsic gas, scaled)."""
        if transaction_size_bytes <= self.large_transaction_cutoff_bytes:
            return self.min_transaction_gas_units
        over = max(0, transaction_size_bytes - self.large_transaction_cutoff_bytes)
        internal = self.min_transaction_gas_units * self.gas_unit_scaling_factor + over * self.intrinsic_gas_per_byte
        return -(-internal // self.gas_unit_scaling_factor)


DEFAULT_SCHEDULE = GasSchedule()


class OutOfGas(Exception):
    """The transaction used more than its max_gas_amount."""


class GasMeter:
    """Counts gas units used by one transaction; raises OutOfGas past the limit."""

    __slots__ = ("schedule", "limit", "used")

    def __init__(self, schedule: GasSchedule, limit_units: int) -> None:
        self.schedule = schedule
        self.limit = limit_units
        self.used = 0

    def charge(self, units: int) -> None:
        """Add units; raise OutOfGas when the total exceeds the limit."""
        self.used += units
        if self.used > self.limit:
            raise OutOfGas(f"used {self.used} > limit {self.limit}")

    @property
    def remaining(self) -> int:
        """Return the units left."""
        return max(0, self.limit - self.used)


UNMETERED_LIMIT_UNITS = 2**63


class UnmeteredGas(GasMeter):
    """A meter for genesis, block prologue and epilogues: its limit cannot be reached."""

    __slots__ = ()

    def __init__(self, schedule: GasSchedule = DEFAULT_SCHEDULE) -> None:
        super().__init__(schedule, UNMETERED_LIMIT_UNITS)
