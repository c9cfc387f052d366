"""The devnet: N validator processes on 127.0.0.1, a launcher and a black-box checker."""
