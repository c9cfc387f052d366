"""Key files on disk and the node's key ring: consensus, network and account keys, and the next ones for rotation."""
