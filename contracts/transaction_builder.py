"""Build and sign Diem script-function transactions: the payloads of the framework's entry points."""

from __future__ import annotations

from dataclasses import dataclass

from primitives.bcs import Serializer
from primitives.keys import PrivateKey
from primitives.types.names import AccountAddress, ChainId
from primitives.types.scripts import ScriptFunction
from primitives.types.transactions import RawTransaction, SignedTransaction, TransactionPayload, sign_raw_transaction
from primitives.types.type_tags import ModuleId, TypeTag, currency_type_tag

DEFAULT_MAX_GAS_AMOUNT = 1_000_000
DEFAULT_GAS_UNIT_PRICE = 0
DEFAULT_GAS_CURRENCY = "XUS"
DEFAULT_EXPIRATION_S = 30
DEFAULT_CHAIN_ID = 2
AUTH_KEY_PREFIX_LENGTH = 16


def encode_u64(value: int) -> bytes:
    """Return the BCS of a u64 Move value."""
    return value.to_bytes(8, "little")


def encode_bool(value: bool) -> bytes:
    """Return the BCS of a bool Move value."""
    return b"\x01" if value else b"\x00"


def encode_bytes(value: bytes) -> bytes:
    """Return the BCS of a vector<u8> Move value."""
    ser = Serializer()
    ser.bytes(value)
    return ser.output()


def compose_script_function(module: str, function: str, ty_args: tuple[TypeTag, ...], args: tuple[bytes, ...]) -> TransactionPayload:
    """Return a ScriptFunction payload of a framework module at 0x1."""
    return TransactionPayload(ScriptFunction(ModuleId(AccountAddress.CORE_CODE, module), function, ty_args, args))


def compose_peer_to_peer(payee: bytes, amount_micro: int, currency: str = "XUS", metadata: bytes = b"",
                         metadata_signature: bytes = b"") -> TransactionPayload:
    """PaymentScripts::peer_to_peer_with_metadata<currency>(payee, amount, metadata, signature)."""
    args = (payee, encode_u64(amount_micro), encode_bytes(metadata), encode_bytes(metadata_signature))
    return compose_script_function("PaymentScripts", "peer_to_peer_with_metadata", (currency_type_tag(currency),), args)


def compose_create_parent_vasp(address: bytes, auth_key_prefix: bytes, human_name: bytes, currency: str = "XUS",
                               add_all_currencies: bool = False, sliding_nonce: int = 0) -> TransactionPayload:
    """AccountCreationScripts::create_parent_vasp_account<currency> (treasury compliance signs)."""
    args = (encode_u64(sliding_nonce), address, encode_bytes(auth_key_prefix), encode_bytes(human_name),
            encode_bool(add_all_currencies))
    return compose_script_function("AccountCreationScripts", "create_parent_vasp_account", (currency_type_tag(currency),), args)


def compose_create_child_vasp(address: bytes, auth_key_prefix: bytes, initial_balance_micro: int = 0,
                              currency: str = "XUS", add_all_currencies: bool = False) -> TransactionPayload:
    """AccountCreationScripts::create_child_vasp_account<currency> (the parent VASP signs)."""
    args = (address, encode_bytes(auth_key_prefix), encode_bool(add_all_currencies), encode_u64(initial_balance_micro))
    return compose_script_function("AccountCreationScripts", "create_child_vasp_account", (currency_type_tag(currency),), args)


def compose_create_designated_dealer(address: bytes, auth_key_prefix: bytes, human_name: bytes, currency: str = "XUS",
                                     add_all_currencies: bool = False, sliding_nonce: int = 0) -> TransactionPayload:
    """AccountCreationScripts::create_designated_dealer<currency> (treasury compliance signs)."""
    args = (encode_u64(sliding_nonce), address, encode_bytes(auth_key_prefix), encode_bytes(human_name),
            encode_bool(add_all_currencies))
    return compose_script_function("AccountCreationScripts", "create_designated_dealer", (currency_type_tag(currency),), args)


def compose_rotate_dual_attestation_info(base_url: bytes, compliance_public_key: bytes) -> TransactionPayload:
    """AccountAdministrationScripts::rotate_dual_attestation_info(new_url, new_key)."""
    args = (encode_bytes(base_url), encode_bytes(compliance_public_key))
    return compose_script_function("AccountAdministrationScripts", "rotate_dual_attestation_info", (), args)


def compose_rotate_authentication_key(new_auth_key: bytes, sliding_nonce: int | None = None) -> TransactionPayload:
    """AccountAdministrationScripts::rotate_authentication_key[_with_nonce](new_key): the sender's own key."""
    if sliding_nonce is None:
        return compose_script_function("AccountAdministrationScripts", "rotate_authentication_key", (),
                                       (encode_bytes(new_auth_key),))
    return compose_script_function("AccountAdministrationScripts", "rotate_authentication_key_with_nonce", (),
                                   (encode_u64(sliding_nonce), encode_bytes(new_auth_key)))


def compose_create_recovery_address() -> TransactionPayload:
    """AccountAdministrationScripts::create_recovery_address(): the sender becomes a recovery address."""
    return compose_script_function("AccountAdministrationScripts", "create_recovery_address", (), ())


def compose_add_recovery_rotation_capability(recovery_address: bytes) -> TransactionPayload:
    """AccountAdministrationScripts::add_recovery_rotation_capability(recovery_address)."""
    return compose_script_function("AccountAdministrationScripts", "add_recovery_rotation_capability", (),
                                   (recovery_address,))


def compose_rotate_authentication_key_with_recovery_address(recovery_address: bytes, to_recover: bytes,
                                                            new_auth_key: bytes) -> TransactionPayload:
    """AccountAdministrationScripts::rotate_authentication_key_with_recovery_address(recovery, to_recover, key)."""
    return compose_script_function("AccountAdministrationScripts", "rotate_authentication_key_with_recovery_address",
                                   (), (recovery_address, to_recover, encode_bytes(new_auth_key)))


def compose_diem_id_domain(address: bytes, domain: bytes, is_remove: bool = False) -> TransactionPayload:
    """TreasuryComplianceScripts::add_diem_id_domain / remove_diem_id_domain (treasury compliance signs)."""
    function = "remove_diem_id_domain" if is_remove else "add_diem_id_domain"
    return compose_script_function("TreasuryComplianceScripts", function, (), (address, encode_bytes(domain)))


@dataclass(frozen=True, slots=True)
class Account:
    """A local account: its private key and address (derived from the key unless fixed, like 0xB1E55ED)."""

    key: PrivateKey
    fixed_address: bytes | None = None

    @property
    def address(self) -> bytes:
        """The account address: the fixed one, or the last 16 bytes of the auth key."""
        return self.fixed_address if self.fixed_address is not None else self.key.public_key().address()

    @property
    def auth_key(self) -> bytes:
        """The 32-byte authentication key."""
        return self.key.public_key().auth_key()

    @property
    def auth_key_prefix(self) -> bytes:
        """The first 16 bytes of the auth key, which account-creation scripts take."""
        return self.auth_key[:AUTH_KEY_PREFIX_LENGTH]

    def sign(self, payload: TransactionPayload, sequence_number: int, expiration_timestamp_secs: int,
             chain_id: int = DEFAULT_CHAIN_ID, max_gas_amount: int = DEFAULT_MAX_GAS_AMOUNT,
             gas_unit_price: int = DEFAULT_GAS_UNIT_PRICE, gas_currency: str = DEFAULT_GAS_CURRENCY) -> SignedTransaction:
        """Return the signed transaction of payload at sequence_number."""
        raw = RawTransaction(
            AccountAddress(self.address), sequence_number, payload, max_gas_amount, gas_unit_price,
            gas_currency, expiration_timestamp_secs, ChainId(chain_id),
        )
        return sign_raw_transaction(self.key, raw)
