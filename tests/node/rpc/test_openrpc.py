"""The OpenRPC document describes exactly the methods the node serves, with the same parameters."""

from __future__ import annotations

from node.rpc.methods import Methods, load_openrpc_document
from tests.node.rpc.memory_ledger import MemoryLedger


def get_served_methods() -> dict[str, tuple[int, int]]:
    ledger = MemoryLedger()
    return {m.name: (m.min_params, m.max_params) for m in Methods(ledger, ledger.submit).get_methods()}


def get_documented_methods() -> dict[str, tuple[int, int]]:
    documented = {}
    for method in load_openrpc_document()["methods"]:
        params = method["params"]
        required = [param for param in params if param.get("required", False)]
        assert params[: len(required)] == required, f"{method['name']}: optional params must come last"
        documented[method["name"]] = (len(required), len(params))
    return documented


def test_every_served_method_is_documented_and_nothing_else() -> None:
    served, documented = get_served_methods(), get_documented_methods()
    assert sorted(served) == sorted(documented)


def test_documented_parameters_match_what_the_dispatcher_accepts() -> None:
    served, documented = get_served_methods(), get_documented_methods()
    mismatched = {name: (served[name], documented[name]) for name in served if served[name] != documented.get(name)}
    assert not mismatched, mismatched


def test_every_documented_method_has_a_result_and_a_summary() -> None:
    for method in load_openrpc_document()["methods"]:
        assert method.get("summary") and method.get("result"), method["name"]


async def test_rpc_discover_serves_the_document() -> None:
    ledger = MemoryLedger()
    document = await Methods(ledger, ledger.submit).discover(ledger.get_snapshot(), [])
    assert document["openrpc"].startswith("1.") and document["methods"]
