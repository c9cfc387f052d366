"""Authenticated, encrypted validator-to-validator networking (Noise IK on libsodium)."""

from node.network.noise import KeyPair
from node.network.peers import PeerInfo
from node.network.transport import Network, TransportConfig, NetworkStats, generate_key_pair

__all__ = ["KeyPair", "Network", "TransportConfig", "NetworkStats", "PeerInfo", "generate_key_pair"]
