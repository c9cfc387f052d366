"""The wallet's certificate verifier agrees with consensus's format and refuses every forgery."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consensus.signer import DEFAULT_SCHEME
from consensus.types import EpochChangeProof as ConsensusEpochChangeProof
from consensus.types import LedgerInfo as ConsensusLedgerInfo
from consensus.verify import verify_ledger_info
from consensus.wire import compute_signing_bytes
from node.genesis import compute_genesis_hash as node_genesis_hash
from primitives.codec import pack
from tests.wallet.chain import ProvenLedger, encode_plain, make_validators, sign_ledger_info
from wallet.errors import VerificationError
from wallet.verify import (
    TrustedState,
    Waypoint,
    compute_commit_signing_bytes,
    compute_genesis_hash,
    decode_epoch_change_proof,
    decode_ledger_info_with_signatures,
    parse_packed,
    verify_signatures,
)

CHAIN_ID = 2
VALIDATORS, KEYS = make_validators(b"test")
ADDRESSES = sorted(KEYS)
hashes = st.binary(min_size=32, max_size=32)
u64s = st.integers(min_value=0, max_value=2**64 - 1)


def _wallet_form(certificate):
    return parse_packed(bytes.fromhex(encode_plain(certificate)), decode_ledger_info_with_signatures)


def _wallet_proof(proof):
    return parse_packed(bytes.fromhex(encode_plain(proof)), decode_epoch_change_proof)


def _ledger_info(epoch=1, version=5, next_set=None) -> ConsensusLedgerInfo:
    return ConsensusLedgerInfo(epoch, 3, b"\x01" * 32, 10, version, b"\x02" * 32, b"\x03" * 32, next_set)


@settings(max_examples=50)
@given(u64s, u64s, hashes, u64s, u64s, hashes, hashes, st.booleans(), st.integers(min_value=0, max_value=255))
def test_signing_bytes_equal_the_consensus_ones(epoch, round_, block, ts, version, state, accumulator, ends, chain):
    info = ConsensusLedgerInfo(epoch, round_, block, ts, version, state, accumulator, VALIDATORS if ends else None)
    certificate = _wallet_form(sign_ledger_info(info, KEYS, chain, signers=[]))
    assert compute_commit_signing_bytes(certificate.ledger_info, chain) == compute_signing_bytes("CommitVote", chain, info)


def test_the_genesis_hash_equals_the_nodes() -> None:
    ledger = ProvenLedger()
    assert compute_genesis_hash(_wallet_form(ledger.genesis)) == node_genesis_hash(ledger.genesis)


@settings(max_examples=30, deadline=None)
@given(st.sets(st.sampled_from(ADDRESSES)), st.integers(min_value=1, max_value=3))
def test_quorum_decisions_agree_with_consensus(signers, chain_id):
    certificate = sign_ledger_info(_ledger_info(), KEYS, chain_id=2, signers=sorted(signers))
    consensus_accepts = verify_ledger_info(certificate, VALIDATORS, DEFAULT_SCHEME, chain_id) is None
    wallet_set = _wallet_form(sign_ledger_info(_ledger_info(next_set=VALIDATORS), KEYS, signers=[])).ledger_info.next_validator_set
    try:
        verify_signatures(_wallet_form(certificate), wallet_set, chain_id)
        wallet_accepts = True
    except VerificationError:
        wallet_accepts = False
    assert wallet_accepts == consensus_accepts == (len(signers) >= 3 and chain_id == 2)


def _trusted_genesis(ledger: ProvenLedger) -> TrustedState:
    return TrustedState.from_waypoint(Waypoint(ledger.genesis_hash), CHAIN_ID)


def test_a_client_follows_epoch_changes_from_the_genesis_waypoint() -> None:
    ledger = ProvenLedger()
    ledger.commit_block()
    ledger.change_epoch("epoch-2")
    ledger.commit_block()
    proof = ledger.get_epoch_change_proof(0)
    trusted = _trusted_genesis(ledger).verify_and_ratchet(_wallet_proof(proof), _wallet_form(ledger.get_latest_certificate()))
    assert trusted.epoch == 2 and trusted.latest.version == ledger.version
    assert [m.address for m in trusted.validators.members] == [m.address for m in ledger.validators.members]


def test_a_waypoint_of_another_chain_is_refused() -> None:
    ledger = ProvenLedger()
    trusted = TrustedState.from_waypoint(Waypoint(b"\x00" * 32), CHAIN_ID)
    with pytest.raises(VerificationError, match="waypoint"):
        trusted.verify_and_ratchet(_wallet_proof(ledger.get_epoch_change_proof(0)), _wallet_form(ledger.genesis))


def test_a_forged_next_validator_set_is_refused() -> None:
    ledger = ProvenLedger()
    ledger.commit_block()
    rogue_set, rogue_keys = make_validators(b"rogue")
    ending = ConsensusLedgerInfo(1, 9, b"\x09" * 32, 1, ledger.version, b"\x01" * 32, b"\x02" * 32, rogue_set)
    forged = sign_ledger_info(ending, rogue_keys)  # signed by the rogue set itself, not epoch 1's
    proof = ConsensusEpochChangeProof((ledger.genesis, forged), False)
    later = sign_ledger_info(_ledger_info(epoch=2, version=ledger.version + 1), rogue_keys)
    with pytest.raises(VerificationError, match="not a validator"):
        _trusted_genesis(ledger).verify_and_ratchet(_wallet_proof(proof), _wallet_form(later))


def test_a_certificate_of_a_later_epoch_without_its_proof_is_refused() -> None:
    ledger = ProvenLedger()
    ledger.commit_block()
    ledger.change_epoch("epoch-2")
    ledger.commit_block()
    only_genesis = ConsensusEpochChangeProof((ledger.genesis,), False)
    with pytest.raises(VerificationError, match="epoch 2 while the proofs reach epoch 1"):
        _trusted_genesis(ledger).verify_and_ratchet(_wallet_proof(only_genesis), _wallet_form(ledger.get_latest_certificate()))


def test_a_gap_or_a_non_ending_link_in_the_proof_is_refused() -> None:
    ledger = ProvenLedger()
    ledger.commit_block()
    regular = ledger.get_latest_certificate()
    with pytest.raises(VerificationError, match="ends nothing"):
        _trusted_genesis(ledger).verify_and_ratchet(
            _wallet_proof(ConsensusEpochChangeProof((ledger.genesis, regular), False)), _wallet_form(regular))
    skipping = dataclasses.replace(regular, ledger_info=dataclasses.replace(regular.ledger_info, epoch=3))
    with pytest.raises(VerificationError, match="skips"):
        _trusted_genesis(ledger).verify_and_ratchet(
            _wallet_proof(ConsensusEpochChangeProof((ledger.genesis, skipping), False)), _wallet_form(regular))


def test_malformed_certificate_bytes_are_a_verification_error() -> None:
    with pytest.raises(VerificationError, match="malformed"):
        parse_packed(b"\xc1garbage", decode_ledger_info_with_signatures)
    with pytest.raises(VerificationError, match="malformed"):
        parse_packed(pack([1, 2, 3]), decode_ledger_info_with_signatures)


def test_duplicate_signers_are_refused() -> None:
    certificate = sign_ledger_info(_ledger_info(), KEYS)
    doubled = dataclasses.replace(certificate, signatures=certificate.signatures[:1] * 3)
    with pytest.raises(VerificationError, match="sorted and unique"):
        verify_signatures(_wallet_form(doubled), _trusted_genesis(ProvenLedger())._follow(
            _wallet_proof(ConsensusEpochChangeProof((ProvenLedger().genesis,), False))).validators, CHAIN_ID)


_FUZZ_LEDGER = ProvenLedger()
_FUZZ_LEDGER.commit_block()
_FUZZ_CERTIFICATE = bytes.fromhex(encode_plain(_FUZZ_LEDGER.get_latest_certificate()))
_FUZZ_TRUSTED = _trusted_genesis(_FUZZ_LEDGER).verify_and_ratchet(
    _wallet_proof(_FUZZ_LEDGER.get_epoch_change_proof(0)), _wallet_form(_FUZZ_LEDGER.get_latest_certificate()))


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(_FUZZ_CERTIFICATE) - 1), st.integers(min_value=1, max_value=255))
def test_no_single_byte_change_of_a_certificate_verifies(position: int, flip: int) -> None:
    data = bytearray(_FUZZ_CERTIFICATE)
    data[position] ^= flip
    with pytest.raises(VerificationError):
        certificate = parse_packed(bytes(data), decode_ledger_info_with_signatures)
        _FUZZ_TRUSTED.verify_and_ratchet(_wallet_proof(ConsensusEpochChangeProof((), False)), certificate)
