"""Modules with private witnesses, typed structs with abilities, resource types and signers."""

from __future__ import annotations

from typing import Any, ClassVar

from contracts.vm.codegen import compile_methods
from contracts.vm.errors import LinearityError
from contracts.vm.values import FieldType
from primitives.hashing import hash_with_salt
from primitives.types.names import AccountAddress
from primitives.types.type_tags import StructTag, TypeTag

KEY = 1
STORE = 2
COPY = 4
DROP = 8
CORE_ADDRESS = AccountAddress.CORE_CODE
STATE_KEY_SALT = "StateKey"


class Witness:
    """A module's private proof of identity: whoever holds it may act as the module."""

    __slots__ = ("module",)

    def __init__(self, module: Module) -> None:
        self.module = module

    def __repr__(self) -> str:
        return f"<witness of {self.module.name}>"


class Module:
    """A framework module at 0x1; `Module(name)` returns the public identity, `.claim()` the witness once."""

    __slots__ = ("name", "location", "_witness", "_claimed")

    def __init__(self, name: str) -> None:
        self.name = name
        self.location = f"{CORE_ADDRESS.hex()}::{name}"
        self._witness = Witness(self)
        self._claimed = False

    def claim(self) -> Witness:
        """Return the module's witness; only the first caller (the defining file) gets it."""
        if self._claimed:
            raise LinearityError(f"witness of {self.name} already claimed")
        self._claimed = True
        return self._witness

    def owns(self, witness: object) -> bool:
        """Return True iff witness is this module's witness."""
        return witness is self._witness

    def __repr__(self) -> str:
        return f"Module({self.name})"


class Struct:
    """Base of every framework struct: fields in FIELDS order, packing only with the module's witness."""

    __slots__ = ("_frozen", "_type")
    MODULE: ClassVar[Module]
    ABILITIES: ClassVar[int] = 0
    FIELDS: ClassVar[tuple[tuple[str, FieldType], ...]] = ()
    TYPE_PARAMS: ClassVar[int] = 0
    IMMUTABLE: ClassVar[bool] = False  # True: never mutated after packing, so clones of a parent share it
    _NAMES: ClassVar[tuple[str, ...]] = ()
    _TYPES: ClassVar[tuple[FieldType, ...]] = ()
    _PLAIN: ClassVar[ResourceType | None] = None

    def __init__(self, witness: object, *values: Any, rtype: ResourceType | None = None, **fields: Any) -> None:
        if witness is not self.MODULE._witness:
            raise LinearityError(f"pack of {type(self).__name__} outside module {self.MODULE.name}")
        setter = object.__setattr__
        setter(self, "_frozen", False)
        setter(self, "_type", rtype or self._PLAIN)
        if values:
            for name, value in zip(self._NAMES, values, strict=True):
                setter(self, name, value)
        else:
            for name in self._NAMES:
                setter(self, name, fields[name])

    def __setattr__(self, name: str, value: Any) -> None:
        if self._frozen:
            raise LinearityError(f"write to {type(self).__name__}.{name} through a read-only reference")
        object.__setattr__(self, name, value)

    def __copy__(self) -> Any:
        if not self.ABILITIES & COPY:
            raise LinearityError(f"{type(self).__name__} cannot be copied")
        return self.clone()

    def __deepcopy__(self, memo: dict) -> Any:
        return self.__copy__()

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise LinearityError("structs are serialized only by the VM codec")

    def __repr__(self) -> str:
        body = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._NAMES)
        return f"{type(self).__name__}({body})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(getattr(self, n) == getattr(other, n) for n in self._NAMES)

    __hash__ = None  # type: ignore[assignment]

    def encode_into(self, out: bytearray) -> None:
        """Append the BCS encoding (fields in order)."""
        for name, ftype in zip(self._NAMES, self._TYPES):
            ftype.encode(out, getattr(self, name))

    def to_bytes(self) -> bytes:
        """Return the canonical BCS bytes of the value."""
        out = bytearray()
        self.encode_into(out)
        return bytes(out)

    @classmethod
    def decode_from(cls, data: bytes, pos: int, rtype: ResourceType | None = None) -> tuple[Any, int]:
        """Decode one value starting at pos; returns (value, new position)."""
        obj = cls.__new__(cls)
        setter = object.__setattr__
        setter(obj, "_frozen", False)
        setter(obj, "_type", rtype or cls._PLAIN)
        for name, ftype in zip(cls._NAMES, cls._TYPES):
            if ftype.is_struct and getattr(ftype, "inherit_type_args", False):
                inner = ResourceType.get(ftype.cls, rtype.type_args)  # type: ignore[union-attr]
                value, pos = ftype.cls.decode_from(data, pos, inner)
            else:
                value, pos = ftype.decode(data, pos)
            setter(obj, name, value)
        return obj, pos

    def clone(self) -> Any:
        """Return a mutable private copy (VM use: the overlay's copy-on-write)."""
        obj = type(self).__new__(type(self))
        setter = object.__setattr__
        setter(obj, "_frozen", False)
        setter(obj, "_type", self._type)
        for name, ftype in zip(self._NAMES, self._TYPES):
            setter(obj, name, ftype.clone(getattr(self, name)))
        return obj

    def freeze(self) -> None:
        """Make the value (and nested structs) read-only: committed state is shared, never mutated."""
        object.__setattr__(self, "_frozen", True)
        for name, ftype in zip(self._NAMES, self._TYPES):
            if ftype.is_struct:
                ftype.freeze(getattr(self, name))

    @classmethod
    def of(cls, *type_args: TypeTag | StructTag) -> ResourceType:
        """Return the instantiated resource type, e.g. Balance.of(XUS) (cached by module/name: the hot path)."""
        if len(type_args) == 1:
            tag = type_args[0]
            if type(tag) is StructTag and not tag.type_params and tag.address == CORE_ADDRESS:
                key = (cls, tag.module, tag.name)
                found = _OF_CACHE.get(key)
                if found is None:
                    found = _OF_CACHE[key] = ResourceType.get(cls, (TypeTag.struct_of(tag),))
                return found
        return ResourceType.get(cls, tuple(_as_type_tag(t) for t in type_args))

    @classmethod
    def rtype(cls) -> ResourceType:
        """Return the resource type of a non-generic struct."""
        return ResourceType.get(cls, ())


_OF_CACHE: dict[tuple[type, str, str], ResourceType] = {}


def _as_type_tag(tag: TypeTag | StructTag) -> TypeTag:
    return TypeTag.struct_of(tag) if isinstance(tag, StructTag) else tag


def struct(module: Module, abilities: int, type_params: int = 0):  # noqa: ANN201 - decorator
    """Declare a framework struct: returns a slotted subclass with the field layout compiled."""

    def build(cls: type) -> type:
        names = tuple(name for name, _ in cls.FIELDS)
        namespace = {"__slots__": names, "__qualname__": cls.__qualname__, "__doc__": cls.__doc__}
        new = type(cls.__name__, (cls,), namespace)
        new.__module__ = cls.__module__
        new.MODULE = module
        new.ABILITIES = abilities
        new.TYPE_PARAMS = type_params
        new._NAMES = names
        new._TYPES = tuple(ftype for _, ftype in cls.FIELDS)
        new._PLAIN = None if type_params else ResourceType.get(new, ())
        for method_name, method in compile_methods(new, new._NAMES, new._TYPES).items():
            setattr(new, method_name, method)
        return new

    return build


class ResourceType:
    """A fully instantiated struct type: class + type arguments, with its StructTag and tag bytes cached."""

    __slots__ = ("cls", "type_args", "struct_tag", "type_tag", "tag_bytes", "module")
    _CACHE: ClassVar[dict[tuple[type, tuple[TypeTag, ...]], ResourceType]] = {}

    def __init__(self, cls: type, type_args: tuple[TypeTag, ...]) -> None:
        self.cls = cls
        self.type_args = type_args
        self.module = cls.MODULE
        self.struct_tag = StructTag(CORE_ADDRESS, cls.MODULE.name, cls.__name__, type_args)
        self.type_tag = TypeTag.struct_of(self.struct_tag)
        self.tag_bytes = self.struct_tag.to_bcs()

    @classmethod
    def get(cls, struct_cls: type, type_args: tuple[TypeTag, ...]) -> ResourceType:
        """Return the cached instance for (class, type args)."""
        key = (struct_cls, type_args)
        found = cls._CACHE.get(key)
        if found is None:
            if len(type_args) != struct_cls.TYPE_PARAMS:
                raise LinearityError(f"{struct_cls.__name__} takes {struct_cls.TYPE_PARAMS} type arguments")
            found = cls._CACHE[key] = ResourceType(struct_cls, type_args)
        return found

    def pack(self, witness: object, **fields: Any) -> Any:
        """Pack a value of this (generic) type."""
        return self.cls(witness, rtype=self, **fields)

    def decode(self, data: bytes) -> Any:
        """Decode stored bytes into a value of this type; trailing bytes are an error."""
        value, pos = self.cls.decode_from(data, 0, self)
        if pos != len(data):
            raise ValueError(f"trailing bytes after {self.struct_tag}")
        return value

    def state_key(self, address: bytes) -> bytes:
        """Return the authenticated-state key of this resource at address."""
        return compute_state_key(address, self.tag_bytes)

    def __repr__(self) -> str:
        return f"ResourceType({self.struct_tag})"


def compute_state_key(address: bytes, tag_bytes: bytes) -> bytes:
    """Return hash_with_salt("StateKey", address || BCS(StructTag)), the state-tree key of a resource."""
    return hash_with_salt(STATE_KEY_SALT, address + tag_bytes)


_VM_TOKEN = object()
_SIGNER_PRIVILEGED: set[str] = {"DiemAccount", "Genesis", "VM"}


class Signer:
    """A capability for an address; only the VM (or the account-creating module) makes one."""

    __slots__ = ("address",)

    def __init__(self, token: object, address: bytes) -> None:
        if token is not _VM_TOKEN:
            raise LinearityError("a signer can only be created by the VM")
        object.__setattr__(self, "address", address)

    def __setattr__(self, name: str, value: Any) -> None:
        raise LinearityError("signer is immutable")

    def __copy__(self) -> Any:
        raise LinearityError("signer cannot be copied")

    def __deepcopy__(self, memo: dict) -> Any:
        raise LinearityError("signer cannot be copied")

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise LinearityError("signer cannot be stored")

    def __repr__(self) -> str:
        return f"Signer({self.address.hex()})"


def create_signer(witness: object, address: bytes) -> Signer:
    """Create a signer for address; only privileged modules (account creation, genesis, VM) may."""
    if not isinstance(witness, Witness) or witness.module.name not in _SIGNER_PRIVILEGED:
        raise LinearityError("create_signer is restricted to the VM and DiemAccount")
    if witness is not witness.module._witness:
        raise LinearityError("forged witness")
    return Signer(_VM_TOKEN, address)


def vm_signer(address: bytes) -> Signer:
    """VM-internal: the transaction sender's signer (used only by the executor)."""
    return Signer(_VM_TOKEN, address)
