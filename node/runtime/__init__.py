"""The runtime: the effect interpreter over the consensus core; execution, commits, catch-up and evidence."""
