"""The base of every Diem BCS type (to_bcs / from_bcs) and the helpers the type modules share."""

from __future__ import annotations

from typing import TypeVar

from primitives.bcs import Deserializer, Serializer
from primitives.errors import DecodeError

_T = TypeVar("_T", bound="BcsType")


class BcsType:
    """Mixin giving to_bcs/from_bcs to classes that define serialize/deserialize."""

    __slots__ = ()

    def serialize(self, ser: Serializer) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    @classmethod
    def deserialize(cls: type[_T], de: Deserializer) -> _T:  # pragma: no cover - overridden
        raise NotImplementedError

    def to_bcs(self) -> bytes:
        """Return the BCS encoding."""
        ser = Serializer()
        self.serialize(ser)
        return ser.output()

    @classmethod
    def from_bcs(cls: type[_T], data: bytes) -> _T:
        """Decode exactly one value from data; DecodeError on malformed input or trailing bytes."""
        de = Deserializer(data)
        try:
            value = cls.deserialize(de)
        except RecursionError:
            raise DecodeError("BCS value nested too deeply") from None
        de.finish()
        return value


def serialize_item(ser: Serializer, item: BcsType) -> None:
    """Write item's BCS (a helper for sequences of BCS values)."""
    item.serialize(ser)


def make_variant_error(what: str, index: int, de: Deserializer) -> DecodeError:
    """Return the DecodeError of an enum variant index that what does not have."""
    return DecodeError(f"{what}: unknown variant {index} before offset {de.position}")


def freeze_tuple(obj: object, name: str) -> None:
    """Make a frozen dataclass field a tuple, whatever sequence the caller passed."""
    value = getattr(obj, name)
    if type(value) is not tuple:
        object.__setattr__(obj, name, tuple(value))
