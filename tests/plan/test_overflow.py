"""A capacity-block pool serves the plan only when the scenario lets work overflow onto it, as in the
simulation (fleet/usable.py)."""

from __future__ import annotations

import pytest

from gpufleet.plan.run import make_plan
from gpufleet.scenario.load import load_scenario_text
from tests.plan.test_plan import flat
from tests.plan.tiny import HOURS, tiny

BLOCKS = """\
  - name: k-blocks
    provider: aws
    kind: capacity-block
    clusters: [c-blocks]
    cap_gpus: 720
    price_per_gpu_hour_usd: 2.5
"""


def _scenario(overflow: bool) -> str:
    text = tiny().text
    text = text.replace(
        "contracts:\n",
        "  - {name: c-blocks, site: aa-1, product: aws/u-p6e-gb200x72, blocks: 1, domains_per_block: 10}\n"
        "contracts:\n" + BLOCKS,
    )
    return text.replace("plan:\n", f"policies: {{overflow: {str(overflow).lower()}}}\nplan:\n")


@pytest.mark.parametrize("overflow", [False, True])
def test_capacity_blocks_serve_only_with_overflow(overflow: bool) -> None:
    ls = load_scenario_text(_scenario(overflow), "tiny.yaml")
    result = make_plan(flat(ls, 1000.0), values=False)
    used = result.routing.groupby("target")["gpu_hours"].sum().to_dict()
    if overflow:  # 280 GPUs short: the block at $2.50 beats signing `more` at $3
        assert used.get("c-blocks", 0.0) == pytest.approx(280 * HOURS)
        assert result.signed == []
    else:  # closed to work: the plan signs 4 domains of `more`, as without the blocks
        assert "c-blocks" not in used
        assert [(s["option"], s["domains"]) for s in result.signed] == [("more", 4)]
