"""Move aborts with Diem's `category + reason * 256` codes, and the explanation tables for JSON views."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

ABORT_REASON_SHIFT = 8


class ModuleIdentity(Protocol):
    """What an error table reads of a framework module (contracts.vm.structs.Module): who aborts, and where."""

    name: str
    location: str


class Category(IntEnum):
    """Diem's error categories (Errors.move)."""

    INVALID_STATE = 1
    REQUIRES_ADDRESS = 2
    REQUIRES_ROLE = 3
    REQUIRES_CAPABILITY = 4
    NOT_PUBLISHED = 5
    ALREADY_PUBLISHED = 6
    INVALID_ARGUMENT = 7
    LIMIT_EXCEEDED = 8
    INTERNAL = 10
    CUSTOM = 255


# The `///` doc-comment text of each category constant (leading space kept, lines joined with "\n").
CATEGORY_DESCRIPTIONS = {
    Category.INVALID_STATE: " The system is in a state where the performed operation is not allowed. Example: call to a"
    " function only allowed\n in genesis.",
    Category.REQUIRES_ADDRESS: " The signer of a transaction does not have the expected address for this operation."
    " Example: a call to a function\n which publishes a resource under a particular address.",
    Category.REQUIRES_ROLE: " The signer of a transaction does not have the expected  role for this operation."
    " Example: a call to a function\n which requires the signer to have the role of treasury compliance.",
    Category.REQUIRES_CAPABILITY: " The signer of a transaction does not have a required capability.",
    Category.NOT_PUBLISHED: " A resource is required but not published. Example: access to non-existing resource.",
    Category.ALREADY_PUBLISHED: " Attempting to publish a resource that is already published. Example: calling an"
    " initialization function\n twice.",
    Category.INVALID_ARGUMENT: " An argument provided to an operation is invalid. Example: a signing key has the wrong"
    " format.",
    Category.LIMIT_EXCEEDED: " A limit on an amount, e.g. a currency, is exceeded. Example: withdrawal of money after"
    " account limits window\n is exhausted.",
    Category.INTERNAL: " An internal error (bug) has occurred.",
    Category.CUSTOM: " A custom error category for extension points.",
}


@dataclass(frozen=True, slots=True)
class Explanation:
    """The `explanation` object of a move_abort VM status."""

    category: str
    category_description: str
    reason: str
    reason_description: str


class MoveAbort(Exception):
    """A Move `abort`: the transaction's overlay is discarded and the transaction is kept."""

    def __init__(self, location: str, code: int) -> None:
        super().__init__(f"{location} aborted with {code}")
        self.location = location
        self.code = code


class LinearityError(Exception):
    """A resource-safety violation (copy, leak, foreign pack, write through a read-only view)."""


class ErrorTable:
    """Reason constants of one module: name -> (reason number, `///` description)."""

    def __init__(self, module: ModuleIdentity, reasons: dict[str, tuple[int, str]]) -> None:
        self.module = module
        self.reasons = dict(reasons)
        self._by_number = {number: (name, text) for name, (number, text) in reasons.items()}
        _TABLES[module.location] = self

    def code(self, category: Category, reason_name: str) -> int:
        """Return `category + reason * 256` for a named reason."""
        return int(category) + (self.reasons[reason_name][0] << ABORT_REASON_SHIFT)

    def abort(self, category: Category, reason_name: str) -> MoveAbort:
        """Return (for `raise`) the abort of a named reason in a category."""
        return MoveAbort(self.module.location, self.code(category, reason_name))

    def explain(self, code: int) -> Explanation | None:
        """Return the names and descriptions of an abort code of this module, if known."""
        try:
            category = Category(code & 0xFF)
        except ValueError:
            return None
        entry = self._by_number.get(code >> ABORT_REASON_SHIFT)
        if entry is None:
            return None
        return Explanation(category.name, CATEGORY_DESCRIPTIONS[category], entry[0], entry[1])


_TABLES: dict[str, ErrorTable] = {}


def explain(location: str, code: int) -> Explanation | None:
    """Return the explanation of an abort at a module location, or None if unknown."""
    table = _TABLES.get(location)
    return table.explain(code) if table is not None else None
