"""Devnet staking defaults and the node's membership rules, without starting processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.genesis import build_genesis
from devnet.layout import (
    DEVNET_STAKING,
    INITIAL_RESERVES_MICRO,
    MINT_HEADROOM_MICRO,
    compute_dealer_balance_micro,
    prepare_devnet,
)
from devnet.manifest import Manifest
from node.config import load_config
from node.genesis import decode_genesis_config, encode_genesis_config, load_genesis_file
from node.genesis import build_genesis_commit
from node.keys.files import load_private_key, save_private_key
from node.service.assembly import NodeStartError, build_node, find_own_address
from node.service.membership import Membership, get_membership
from primitives.keys import PrivateKey

MANIFEST = Manifest(validators=4, standby_nodes=1, base_port=18080, network_base_port=16180)


@pytest.fixture()
def layout(tmp_path: Path):  # noqa: ANN201
    return prepare_devnet(tmp_path, MANIFEST)


def get_xus_supply(genesis_config) -> int:  # noqa: ANN001
    from contracts.framework import currency
    from contracts.vm.context import Context
    from contracts.vm.gas import UnmeteredGas
    from contracts.vm.storage import BlockState

    output = build_genesis(genesis_config)
    ctx = Context(BlockState(output.state_view), b"\x00" * 16, UnmeteredGas(), 0)
    return currency.get_total_value(ctx, currency.tag_of_code(b"XUS"))


def test_a_devnet_genesis_stakes_its_validators_within_the_attested_reserves(layout) -> None:  # noqa: ANN001
    genesis = load_genesis_file(layout.genesis_path)
    assert genesis.staking == DEVNET_STAKING and DEVNET_STAKING.is_valid()
    assert DEVNET_STAKING.unbonding_us >= DEVNET_STAKING.max_evidence_age_us
    assert decode_genesis_config(encode_genesis_config(genesis)) == genesis  # the file carries the staking section
    stake = sum(validator.stake for validator in genesis.validators)
    assert genesis.dealers[0].initial_balance == INITIAL_RESERVES_MICRO - MINT_HEADROOM_MICRO - stake
    assert get_xus_supply(genesis) == INITIAL_RESERVES_MICRO - MINT_HEADROOM_MICRO  # dealer + minted stake
    unstaked = load_genesis_file(prepare_devnet(layout.root / "plain", replace_manifest(staking=False)).genesis_path)
    assert unstaked.staking is None and unstaked.dealers[0].initial_balance == compute_dealer_balance_micro(
        replace_manifest(staking=False)) == INITIAL_RESERVES_MICRO - MINT_HEADROOM_MICRO


def replace_manifest(**fields: object) -> Manifest:
    return MANIFEST.model_copy(update=fields)


def test_a_standby_node_is_a_configured_peer_everywhere_but_not_in_genesis(layout) -> None:  # noqa: ANN001
    genesis = load_genesis_file(layout.genesis_path)
    assert len(layout.validators) == 5 and len(genesis.validators) == 4
    standby = load_config(layout.validators[4].config_path)
    standby_address = load_private_key(standby.keys.account_key_file).public_key().address()
    assert standby_address not in {validator.address for validator in genesis.validators}
    for files in layout.validators:
        config = load_config(files.config_path)
        assert config.keys.account_key_file == files.directory / "keys" / "account.key"
        own = load_private_key(config.keys.account_key_file).public_key().address()
        # Genesis validators are dialled at their on-chain addresses; the standby node has none on chain yet.
        assert {bytes.fromhex(peer.address) for peer in config.network.peers} == {standby_address} - {own}


def test_a_standby_node_starts_as_a_non_validator_named_by_its_account_key(layout) -> None:  # noqa: ANN001
    config = load_config(layout.validators[4].config_path)
    parts = build_node(config)
    try:
        account = load_private_key(config.keys.account_key_file).public_key().address()
        assert parts.runtime.config.core.author == account
        assert not parts.runtime.state.is_validator()
        assert len(parts.network.peers.by_id) == 4  # the genesis validators, which it dials until they let it in
    finally:
        parts.store.close()
    without_account = config.model_copy(update={"keys": config.keys.model_copy(update={"account_key_file": None})})
    with pytest.raises(NodeStartError, match="not in the genesis validator set"):
        build_node(without_account)


def test_the_account_key_must_own_the_consensus_key_it_runs_with(layout) -> None:  # noqa: ANN001
    validators = build_genesis_commit(load_genesis_file(layout.genesis_path))[2]
    member = validators.members[0]
    stranger = PrivateKey.from_seed_material(b"stranger").public_key()
    assert find_own_address(validators, [member.consensus_public_key]) == member.address
    assert find_own_address(validators, [stranger.data, member.consensus_public_key]) == member.address  # a next key
    assert find_own_address(validators, [member.consensus_public_key], member.address) == member.address
    assert find_own_address(validators, [stranger.data], stranger.address()) == stranger.address()
    with pytest.raises(NodeStartError, match="belongs to validator"):
        find_own_address(validators, [member.consensus_public_key], stranger.address())


def test_the_first_validator_set_has_the_capped_powers_genesis_computes(tmp_path: Path) -> None:
    manifest = Manifest(validators=4, stakes_micro=[10**13, 10**12, 10**12, 10**12])
    genesis = load_genesis_file(prepare_devnet(tmp_path, manifest).genesis_path)
    powers = {member.address: member.voting_power for member in build_genesis_commit(genesis)[2].members}
    configured = {validator.address: validator.stake for validator in genesis.validators}
    largest = max(configured, key=configured.__getitem__)
    assert powers[largest] < configured[largest]  # capped at 33.33 % of the power
    assert powers[largest] * 10_000 <= sum(powers.values()) * DEVNET_STAKING.power_cap_bps
    assert all(powers[address] == stake for address, stake in configured.items() if address != largest)


def test_a_node_whose_consensus_key_is_not_the_registered_one_signs_nothing(layout) -> None:  # noqa: ANN001
    config = load_config(layout.validators[0].config_path)
    registered = load_private_key(config.keys.consensus_key_file).public_key().data
    wrong_key_file = layout.root / "wrong-consensus.key"
    save_private_key(wrong_key_file, PrivateKey.from_seed_material(b"not the registered key"))
    wrong = config.model_copy(update={"keys": config.keys.model_copy(update={"consensus_key_file": wrong_key_file})})
    parts = build_node(wrong)  # the account key names the node; the set lists another consensus key for it
    try:
        state = parts.runtime.state
        address = load_private_key(config.keys.account_key_file).public_key().address()
        assert state.config.author == address and state.epoch_state.validators.is_member(address)
        assert not state.is_validator() and state.get_signer() is None
        held = parts.runtime.config.keyring.get_consensus_public_keys()
        assert get_membership(state.epoch_state.validators, address, held) == Membership.KEY_MISMATCH
        assert get_membership(state.epoch_state.validators, address, [registered]) == Membership.VALIDATOR
    finally:
        parts.store.close()
