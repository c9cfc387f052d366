"""The wallet service: a custodial wallet backend for apps (Diem MiniWallet API, off-chain API v2, webhooks)."""
