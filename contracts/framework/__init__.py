"""The Diem-compatible framework modules (core: vm engineer; compliance: framework engineer)."""

from __future__ import annotations

from primitives.types.names import AccountAddress

VM_RESERVED = AccountAddress.VM_RESERVED.value
CORE_CODE = AccountAddress.CORE_CODE.value
DIEM_ROOT = AccountAddress.DIEM_ROOT.value
TREASURY_COMPLIANCE = AccountAddress.TREASURY_COMPLIANCE.value
TESTNET_DD = AccountAddress.TESTNET_DD.value
