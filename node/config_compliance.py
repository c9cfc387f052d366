"""The compliance sections of node.toml: admission hooks and the regulator listener."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator

from node.config_base import PORT_MAX, Section, check_hex


class SanctionsHookConfig(Section):
    """Admission: refuse senders and payees listed in a file of addresses (reloaded when it changes)."""

    list_file: Path = Field(description="one hex address per line, '#' comments; relative to data_dir")


class KycGateConfig(Section):
    """Admission: above threshold_micro, payer and payee need an unexpired on-chain KYC record of tier >= min_tier."""

    min_tier: int = Field(default=1, ge=0)
    threshold_micro: int = Field(default=0, ge=0)
    exempt_roles: list[str] = ["diem_root", "treasury_compliance", "designated_dealer"]


class VelocityWindowConfig(Section):
    """At most max_transfers and max_amount_micro sent by one account within window_s (committed + pending)."""

    window_s: int = Field(gt=0)
    max_transfers: int | None = Field(default=None, ge=0)
    max_amount_micro: int | None = Field(default=None, ge=0)
    currency: str = "*"


class VelocityHookConfig(Section):
    """Admission: per-account velocity limits over time windows."""

    windows: list[VelocityWindowConfig] = Field(min_length=1)
    exempt_roles: list[str] = ["diem_root", "treasury_compliance", "designated_dealer"]


class AmountCapConfig(Section):
    """The largest single payment an account of `tier` (or above, up to the next cap) may send."""

    tier: int = Field(ge=0)
    max_amount_micro: int = Field(ge=0)
    currency: str = "*"


class AmountCapsHookConfig(Section):
    """Admission: a per-payment cap by the sender's effective KYC tier."""

    caps: list[AmountCapConfig] = Field(min_length=1)
    exempt_roles: list[str] = ["diem_root", "treasury_compliance", "designated_dealer"]


class AdmissionConfig(Section):
    """Admission hooks run, in `hooks` order, on every JSON-RPC submission before the mempool."""

    hooks: list[str] = Field(default=[], description="built-ins: sanctions, kyc, velocity, amount_caps; or module:factory")
    hook_budget_ms: int = Field(default=100, gt=0)
    isolation: str = Field(default="thread", pattern="^(thread|inline)$")
    rejection_log_entries_max: int = Field(default=10_000, gt=0, description="rejections kept (in data_dir/admission, "
                                           "across restarts) for the regulator API; older ones are evicted")
    sanctions: SanctionsHookConfig | None = None
    kyc: KycGateConfig | None = None
    velocity: VelocityHookConfig | None = None
    amount_caps: AmountCapsHookConfig | None = None

    @model_validator(mode="after")
    def check_hook_sections(self) -> AdmissionConfig:
        for name in self.hooks:
            if name in ("sanctions", "kyc", "velocity", "amount_caps") and getattr(self, name) is None:
                raise ValueError(f"hooks lists {name!r} but the [admission.{name}] section is missing")
            if name not in ("sanctions", "kyc", "velocity", "amount_caps") and ":" not in name:
                raise ValueError(f"hook {name!r} is neither a built-in (sanctions, kyc, velocity, amount_caps) "
                                 "nor module:factory")
        if len(self.hooks) != len(set(self.hooks)):
            raise ValueError("hooks lists the same hook twice")
        return self


class RegulatorKeyConfig(Section):
    """One regulator: its ed25519 public key and what it may ask for."""

    name: str = Field(min_length=1, max_length=64)
    public_key: str
    methods: list[str] = Field(min_length=1, description="compliance_* method names, or '*'")
    currencies: list[str] = Field(default=["*"], min_length=1)
    audit_scope: str = Field(default="own", pattern="^(own|all)$",
                             description="own: compliance_get_audit_log shows this key's entries in full and only the "
                             "hashes of the others'; all: every entry (for an overseer of the other regulators)")

    @field_validator("public_key")
    @classmethod
    def check_public_key(cls, value: str) -> str:
        return check_hex(value, 32, "public_key")


class RegulatorConfig(Section):
    """The regulator API: its own listener, authenticated and audit-logged; off unless this section exists."""

    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=8090, ge=0, le=PORT_MAX)
    audit_log_file: Path = Field(default=Path("regulator-audit.jsonl"), description="relative to data_dir")
    freshness_window_ms: int = Field(default=60_000, gt=0)
    replay_cache_entries_max: int = Field(default=100_000, gt=0)
    connections_max: int = Field(default=128, gt=0)
    connections_per_client_max: int = Field(default=16, gt=0)
    regulators: list[RegulatorKeyConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def check_unique_keys(self) -> RegulatorConfig:
        keys = [item.public_key for item in self.regulators]
        names = [item.name for item in self.regulators]
        if len(keys) != len(set(keys)) or len(names) != len(set(names)):
            raise ValueError("regulators lists the same key or name twice")
        return self
