"""The wallet verifies served certificates with the shared certified layer and refuses every forgery."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primitives.certified.ledger_info import (
    EpochChangeProof,
    LedgerInfo,
    check_ledger_info_signatures,
    encode_epoch_change_proof,
    encode_ledger_info,
)
from primitives.certified.signatures import DEFAULT_SCHEME
from primitives.certified.trust import TrustedState, Waypoint
from primitives.codec import pack
from tests.wallet.chain import ProvenLedger, make_validators, sign_ledger_info
from wallet.errors import VerificationError
from wallet.verify import parse_certificate, parse_epoch_change_proof, parse_waypoint, ratchet

CHAIN_ID = 2
VALIDATORS, KEYS = make_validators(b"test")
ADDRESSES = sorted(KEYS)


def _served(certificate):
    return parse_certificate(encode_ledger_info(certificate))


def _served_proof(proof):
    return parse_epoch_change_proof(encode_epoch_change_proof(proof))


def _ledger_info(epoch=1, version=5, next_set=None) -> LedgerInfo:
    return LedgerInfo(epoch, 3, b"\x01" * 32, 10, version, b"\x02" * 32, b"\x03" * 32, next_set)


@settings(max_examples=30, deadline=None)
@given(st.sets(st.sampled_from(ADDRESSES)), st.integers(min_value=1, max_value=3))
def test_a_certificate_verifies_with_a_quorum_on_its_chain_only(signers, chain_id):
    certificate = _served(sign_ledger_info(_ledger_info(), KEYS, chain_id=2, signers=sorted(signers)))
    accepted = check_ledger_info_signatures(certificate, VALIDATORS, DEFAULT_SCHEME, chain_id) is None
    assert accepted == (len(signers) >= 3 and chain_id == 2)


def _trusted_genesis(ledger: ProvenLedger) -> TrustedState:
    return TrustedState.from_waypoint(Waypoint(ledger.genesis_hash), CHAIN_ID)


def test_a_client_follows_epoch_changes_from_the_genesis_waypoint() -> None:
    ledger = ProvenLedger()
    ledger.commit_block()
    ledger.change_epoch("epoch-2")
    ledger.commit_block()
    proof = ledger.get_epoch_change_proof(0)
    trusted = ratchet(_trusted_genesis(ledger), _served_proof(proof), _served(ledger.get_latest_certificate()))
    assert trusted.epoch == 2 and trusted.latest.version == ledger.version
    assert [m.address for m in trusted.validators.members] == [m.address for m in ledger.validators.members]


def test_a_waypoint_of_another_chain_is_refused() -> None:
    ledger = ProvenLedger()
    trusted = TrustedState.from_waypoint(Waypoint(b"\x00" * 32), CHAIN_ID)
    with pytest.raises(VerificationError, match="waypoint"):
        ratchet(trusted, _served_proof(ledger.get_epoch_change_proof(0)), _served(ledger.genesis))


def test_a_waypoint_must_be_32_bytes_of_hex() -> None:
    assert parse_waypoint("0x" + "ab" * 32) == Waypoint(b"\xab" * 32)
    for text in ("zz" * 32, "ab" * 31):
        with pytest.raises(VerificationError, match="waypoint"):
            parse_waypoint(text)


def test_a_forged_next_validator_set_is_refused() -> None:
    ledger = ProvenLedger()
    ledger.commit_block()
    rogue_set, rogue_keys = make_validators(b"rogue")
    ending = LedgerInfo(1, 9, b"\x09" * 32, 1, ledger.version, b"\x01" * 32, b"\x02" * 32, rogue_set)
    forged = sign_ledger_info(ending, rogue_keys)  # signed by the rogue set itself, not epoch 1's
    proof = EpochChangeProof((ledger.genesis, forged), False)
    later = sign_ledger_info(_ledger_info(epoch=2, version=ledger.version + 1), rogue_keys)
    with pytest.raises(VerificationError, match="not a validator"):
        ratchet(_trusted_genesis(ledger), _served_proof(proof), _served(later))


def test_a_certificate_of_a_later_epoch_without_its_proof_is_refused() -> None:
    ledger = ProvenLedger()
    ledger.commit_block()
    ledger.change_epoch("epoch-2")
    ledger.commit_block()
    only_genesis = EpochChangeProof((ledger.genesis,), False)
    with pytest.raises(VerificationError, match="epoch 2 while the proofs reach epoch 1"):
        ratchet(_trusted_genesis(ledger), _served_proof(only_genesis), _served(ledger.get_latest_certificate()))


def test_a_gap_or_a_non_ending_link_in_the_proof_is_refused() -> None:
    ledger = ProvenLedger()
    ledger.commit_block()
    regular = ledger.get_latest_certificate()
    with pytest.raises(VerificationError, match="ends nothing"):
        ratchet(_trusted_genesis(ledger), _served_proof(EpochChangeProof((ledger.genesis, regular), False)),
                _served(regular))
    skipping = dataclasses.replace(regular, ledger_info=dataclasses.replace(regular.ledger_info, epoch=3))
    with pytest.raises(VerificationError, match="skips"):
        ratchet(_trusted_genesis(ledger), _served_proof(EpochChangeProof((ledger.genesis, skipping), False)),
                _served(regular))


def test_malformed_certificate_bytes_are_a_verification_error() -> None:
    with pytest.raises(VerificationError, match="malformed"):
        parse_certificate(b"\xc1garbage")
    with pytest.raises(VerificationError, match="malformed"):
        parse_certificate(pack([1, 2, 3]))


def test_duplicate_signers_are_refused() -> None:
    ledger = ProvenLedger()
    trusted = ratchet(_trusted_genesis(ledger), _served_proof(EpochChangeProof((ledger.genesis,), False)),
                      _served(ledger.genesis))
    certificate = sign_ledger_info(_ledger_info(), KEYS)
    doubled = dataclasses.replace(certificate, signatures=certificate.signatures[:1] * 3)
    rejection = check_ledger_info_signatures(_served(doubled), trusted.validators, DEFAULT_SCHEME, CHAIN_ID)
    assert rejection is not None and "sorted and unique" in rejection.message


_FUZZ_LEDGER = ProvenLedger()
_FUZZ_LEDGER.commit_block()
_FUZZ_CERTIFICATE = encode_ledger_info(_FUZZ_LEDGER.get_latest_certificate())
_FUZZ_TRUSTED = ratchet(_trusted_genesis(_FUZZ_LEDGER), _served_proof(_FUZZ_LEDGER.get_epoch_change_proof(0)),
                        _served(_FUZZ_LEDGER.get_latest_certificate()))


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(_FUZZ_CERTIFICATE) - 1), st.integers(min_value=1, max_value=255))
def test_no_single_byte_change_of_a_certificate_verifies(position: int, flip: int) -> None:
    data = bytearray(_FUZZ_CERTIFICATE)
    data[position] ^= flip
    with pytest.raises(VerificationError):
        certificate = parse_certificate(bytes(data))
        ratchet(_FUZZ_TRUSTED, _served_proof(EpochChangeProof((), False)), certificate)
