"""--add-capacity: stated extra capacity spread over a provider's sites and products, valued by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_cli

from gpufleet.errors import InputError
from gpufleet.plan.run import make_plan
from gpufleet.plan.whatif import parse_power_mw, value_of_added_capacity, with_added_capacity
from tests.plan.test_plan import flat
from tests.plan.tiny import HOURS, tiny

DOMAIN_MW = 0.132  # aws/u-p6e-gb200x72: 132 kW IT per rack, PUE 1.0 at aa-1


def test_power_amounts_parse_with_units_and_bad_ones_are_refused() -> None:
    assert (
        parse_power_mw("1GW") == 1000.0 and parse_power_mw("500 MW") == 500.0 and parse_power_mw("7") == 7.0
    )
    for bad in ("1 TW", "-1GW", "0", "lots"):
        with pytest.raises(InputError):
            parse_power_mw(bad)


def test_added_capacity_is_whole_domains_at_the_provider_site_with_its_power() -> None:
    ls = tiny()
    s, added = with_added_capacity(ls.scenario, ls.catalog, 5.5 * DOMAIN_MW, "aws")
    assert added == [
        {
            "site": "aa-1",
            "product": "aws/u-p6e-gb200x72",
            "domains": 5,
            "gpus": 360,
            "mw": pytest.approx(0.66),
        }
    ]
    site = next(x for x in s.sites if x.name == "aa-1")
    assert site.power_mw == pytest.approx(100 + 5 * DOMAIN_MW)
    with pytest.raises(InputError, match="no site 'bb-1' of provider 'aws'"):
        with_added_capacity(ls.scenario, ls.catalog, 1.0, "aws", "bb-1")


def test_value_of_added_capacity_is_the_option_it_saves_signing() -> None:
    # 1000 GPUs wanted, 720 held: without more, 4 domains of `more` at $3 are signed; 5 free domains at
    # aws serve the 280 short, so the plan signs nothing and saves 4 x 72 GPUs x $3 all year
    p = flat(tiny(), 1000.0)
    base = make_plan(p, values=False)
    a = value_of_added_capacity(p, base.objective_pv_usd, 5 * DOMAIN_MW + 1e-9, "aws")
    assert a.value_usd == pytest.approx(4 * 72 * HOURS * 3.0, rel=1e-6)
    assert a.gpu_hours == pytest.approx(360 * HOURS)


def test_cli_add_capacity(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(tiny().text)
    args = ("plan", str(path), "--no-values", "--no-store")
    res = run_cli(*args, "--add-capacity", "1GW", "--provider", "aws", "--json", capsys=capsys)
    assert res.code == 0, res.stderr
    d = json.loads(res.stdout)["add_capacity"]
    assert d["mw"] == 1000.0 and d["value_usd"] >= 0 and d["added"][0]["site"] == "aa-1"
    text = run_cli(*args, "--add-capacity", "1GW", "--provider", "aws", capsys=capsys)
    assert text.code == 0 and "What-if: +1,000 MW at aws" in text.stdout
    bad = run_cli(*args, "--add-capacity", "1GW", capsys=capsys)
    assert bad.code == 2 and "--provider" in bad.stderr
    bad = run_cli(*args, "--add-capacity", "1GW", "--provider", "nope", capsys=capsys)
    assert bad.code == 2 and "unknown provider 'nope'" in bad.stderr
