"""Read views over the committed store: state at a version, and tree or accumulator nodes with layers on top."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Generic, TypeVar

from node.storage.store import Store

NodeKey = TypeVar("NodeKey", bound=Hashable)


class StoreStateView:
    """State values as of a committed version, read from the store (a contracts StateView)."""

    def __init__(self, store: Store, version: int) -> None:
        self.store = store
        self.version = version

    def get(self, key: bytes) -> bytes | None:
        """Return the value of key at the view's version."""
        return self.store.get_state_value(key, self.version)


class LayeredNodeStore(Generic[NodeKey]):
    """Nodes from speculative layers, then from a base lookup; new nodes become the top layer."""

    def __init__(self, get_base: Callable[[NodeKey], bytes | None],
                 layers: Sequence[Mapping[NodeKey, bytes]] = ()) -> None:
        self.get_base = get_base
        self.layers: list[Mapping[NodeKey, bytes]] = list(layers)

    def get(self, node_key: NodeKey) -> bytes | None:
        """Return a node from the newest layer holding it, else from the base."""
        for layer in reversed(self.layers):
            node = layer.get(node_key)
            if node is not None:
                return node
        return self.get_base(node_key)

    def put_batch(self, nodes: Mapping[NodeKey, bytes]) -> None:
        """Keep new nodes as the topmost layer."""
        self.layers.append(dict(nodes))


def get_no_node(_node_key: Hashable) -> bytes | None:
    """The base of a tree or accumulator built from nothing (genesis): no node exists yet."""
    return None
