"""Any delivery order, duplication or loss keeps agreement and one vote per round; healing restores commits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.consensus.harness import Cluster
from tests.consensus.test_scenarios import assert_agreement

choices = st.lists(st.tuples(st.integers(0, 50), st.sampled_from(["deliver", "deliver", "duplicate", "drop", "timeout"])),
                   min_size=50, max_size=400)


@settings(max_examples=20, deadline=None)
@given(choices, st.sampled_from([[1, 1, 1, 1], [3, 1, 1, 1], [2, 2, 1, 1, 1]]))
def test_random_order_duplicates_and_losses_never_break_agreement(schedule, powers):
    cluster = Cluster(powers)
    cluster.start()
    for position, action in schedule:
        if action == "timeout":
            cluster.fire_timeouts([position % len(powers)])
            continue
        if not cluster.queue:
            continue
        position %= len(cluster.queue)
        if action == "drop":
            cluster.queue.rotate(-position)
            cluster.queue.popleft()
            cluster.queue.rotate(position)
        else:
            cluster.deliver_one(position, duplicate=action == "duplicate")
    assert_agreement(cluster)
    before = max(len(node.committed) for node in cluster.nodes)
    for _ in range(5):  # heal: FIFO delivery and timers
        cluster.fire_timeouts()
        cluster.run(max_messages=300)
    assert_agreement(cluster)
    assert max(len(node.committed) for node in cluster.nodes) > before
