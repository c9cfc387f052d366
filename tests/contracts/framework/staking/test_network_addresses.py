"""Validator network addresses on chain: set by the operator's signed request, installed at the next epoch,
which the request brings about; malformed lists abort and change nothing."""

from __future__ import annotations

import pytest

from contracts.framework import staking, system
from contracts.framework.staking import DIEM_ROOT
from tests.contracts.framework.staking.helpers import abort_of, assert_executed, make_staking_chain, staking_events
from tests.contracts.framework.staking.helpers import vec

EINVALID_NETWORK_ADDRESS = ("Staking", 7 + 20 * 256)  # INVALID_ARGUMENT + reason 20 * 256


@pytest.fixture()
def chain():
    return make_staking_chain()


def get_listed_addresses(chain, address: bytes) -> tuple[bytes, ...]:  # noqa: ANN001
    found = chain.ctx().borrow(system.VALIDATOR_SET, DIEM_ROOT)
    return tuple(next(info for info in found.validators if info.addr == address).network_addresses)


def test_a_validator_moves_at_the_next_epoch_which_starts_at_the_next_block(chain):
    key, address = chain.validators["v0"]
    epoch = chain.epoch()
    out = chain.op(key, "set_network_addresses", vec(b"198.18.0.9:6180,validator.example:6181"))
    assert_executed(out)
    assert staking_events(out)[0][0] == "Staking::SetNetworkAddressesEvent"
    assert chain.pool(address).pending_network_addresses == (b"198.18.0.9:6180", b"validator.example:6181")
    assert get_listed_addresses(chain, address) == (), "the current set still lists the old addresses"
    assert chain.state_().reconfigure_pending
    chain.run()
    assert chain.epoch() == epoch + 1
    assert get_listed_addresses(chain, address) == (b"198.18.0.9:6180", b"validator.example:6181")
    assert chain.pool(address).pending_network_addresses == ()


@pytest.mark.parametrize("addresses", [b"", b"198.18.0.9", b"198.18.0.9:0", b"198.18.0.9:70000", b"a b:1",
                                       b"http://x:1", b"h:1,h:1", b"a:1,b:1,c:1,d:1,e:1", b"x" * 70 + b":1"])
def test_a_malformed_address_list_aborts_and_changes_nothing(chain, addresses):
    key, address = chain.validators["v0"]
    assert abort_of(chain.op(key, "set_network_addresses", vec(addresses))) == EINVALID_NETWORK_ADDRESS
    assert chain.pool(address).pending_network_addresses == ()
    assert not chain.state_().reconfigure_pending


def test_only_a_registered_operator_sets_addresses(chain):
    key, _address = chain.new_operator("stranger")
    assert abort_of(chain.op(key, "set_network_addresses", vec(b"198.18.0.9:6180")))[0] == "Staking"


def test_an_operator_outside_the_set_is_listed_at_its_address_when_it_joins(chain):
    key, address = chain.new_operator("op-j")
    assert_executed(chain.register(key, "op-j"))
    assert_executed(chain.op(key, "set_network_addresses", vec(b"198.18.0.7:6180")))
    assert chain.pool(address).network_addresses == (b"198.18.0.7:6180",) and not chain.state_().reconfigure_pending
    assert staking.get_pool(chain.ctx(), address).pending_network_addresses == ()
