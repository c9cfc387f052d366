"""The regulator API: signed requests, scopes, a hash-chained audit log, `compliance_*` methods (docs/compliance.md)."""
