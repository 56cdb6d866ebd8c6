"""Changes by path (`--set`): set, scale and add; names, indexes and wildcards; errors at the change."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpufleet.errors import InputError
from gpufleet.scenario import load_scenario, load_scenario_text, with_case
from gpufleet.scenario.overrides import Editable, Override, apply_overrides, edit, parse_override

DEFAULT = load_scenario(None)
EDITABLE = Editable.of(DEFAULT)


def changed(*texts: str) -> object:
    return EDITABLE.apply([parse_override(t) for t in texts])


def contract(loaded: object, name: str) -> object:
    scenario = loaded.scenario  # type: ignore[attr-defined]
    return next(c for c in scenario.contracts if c.name == name)


def test_parse_reads_the_operator_and_a_yaml_value() -> None:
    assert parse_override("a.b=6") == Override("a.b", "=", 6)
    assert parse_override(" a.*.c *= 0.8 ") == Override("a.*.c", "*=", 0.8)
    assert parse_override("a.b+=-3") == Override("a.b", "+=", -3)
    assert parse_override("a.b=monthly").value == "monthly"
    assert parse_override("a.b=[1, 2]").value == [1, 2]
    for bad in ("a.b", "=3", "a.b*=x", "a.b+=[1]"):
        with pytest.raises(InputError):
            parse_override(bad)


def test_set_adds_and_scales_fields_chosen_by_name() -> None:
    before = contract(DEFAULT, "oci-stargate").slip_months  # type: ignore[attr-defined]
    one = changed("contracts.oci-stargate.slip_months=6")
    assert contract(one, "oci-stargate").slip_months == 6  # type: ignore[attr-defined]
    two = changed("contracts.oci-stargate.slip_months+=4")
    assert contract(two, "oci-stargate").slip_months == before + 4  # type: ignore[attr-defined]
    # other contracts are untouched
    assert contract(one, "aws-gb200") == contract(DEFAULT, "aws-gb200")


def test_scaling_a_mapping_scales_every_number_in_it() -> None:
    base = DEFAULT.scenario.finance.revenue_scenarios
    out = changed("finance.revenue_scenarios.*.by_year_usd*=0.7")
    for name, case in out.scenario.finance.revenue_scenarios.items():  # type: ignore[attr-defined]
        for year, usd in case.by_year_usd.items():
            assert usd == pytest.approx(0.7 * base[name].by_year_usd[year])


def test_a_wildcard_skips_items_without_the_field_and_an_int_stays_an_int() -> None:
    data = {"xs": [{"name": "a", "n": 3}, {"name": "b"}, {"w": {"name": "c", "n": 10}}]}
    out, paths = edit(data, [parse_override("xs.*.n*=1.5")])
    assert out["xs"][0]["n"] == 4 and isinstance(out["xs"][0]["n"], int)  # 4.5 rounds to even
    assert "n" not in out["xs"][1] and out["xs"][2]["w"]["n"] == 15
    assert set(paths) == {("xs", 0, "n"), ("xs", 2, "w", "n")}
    assert data["xs"][0]["n"] == 3  # the input is not changed


def test_names_may_hold_dots_and_items_may_be_chosen_by_index() -> None:
    data = {"xs": [{"name": "v1.2", "n": 1}, {"name": "v1", "n": 2}]}
    out, _ = edit(data, [parse_override("xs.v1.2.n=7"), parse_override("xs.1.n=8")])
    assert [x["n"] for x in out["xs"]] == [7, 8]


def test_errors_name_the_change_and_what_is_there() -> None:
    with pytest.raises(InputError) as err:
        changed("contracts.nope.slip_months=6")
    [p] = err.value.problems
    assert p.where == "--set contracts.nope.slip_months=6" and "oci-stargate" in p.message
    with pytest.raises(InputError) as err:
        changed("contracts.oci-stargate.slip_months=-3")
    assert err.value.problems[0].where == "--set contracts.oci-stargate.slip_months=-3"
    assert "greater than or equal to 0" in err.value.problems[0].message
    with pytest.raises(InputError, match=r"needs a number at contracts\.0\.name"):
        changed("contracts.*.name*=2")


def test_the_changed_text_loads_to_the_same_scenario() -> None:
    out = changed(
        "contracts.oci-stargate.slip_months=6",
        "finance.revenue_scenarios.bear.weight=0.2",
        "finance.revenue_scenarios.bull.weight=0.3",
    )
    again = load_scenario_text(out.text, "again.yaml")  # type: ignore[attr-defined]
    assert again.content_hash == out.content_hash  # type: ignore[attr-defined]
    assert "# --set contracts.oci-stargate.slip_months=6" in out.text  # type: ignore[attr-defined]
    assert out.content_hash != DEFAULT.content_hash  # type: ignore[attr-defined]


def test_a_chosen_revenue_case_survives_changes() -> None:
    bear = with_case(DEFAULT, "bear")
    out = apply_overrides(bear, [parse_override("contracts.oci-stargate.slip_months=6")])
    assert out.scenario.finance.base_case == "bear"


def test_no_change_is_the_scenario_itself() -> None:
    assert EDITABLE.apply([]) is DEFAULT


@given(st.floats(min_value=0.1, max_value=10.0), st.integers(min_value=0, max_value=24))
def test_scaling_then_unscaling_and_adding_then_subtracting_come_back(factor: float, months: int) -> None:
    data = {"a": {"x": 1.0e9, "ys": [2.0, 3.5]}, "m": 5}
    there, _ = edit(data, [Override("a", "*=", factor), Override("m", "+=", months)])
    back, _ = edit(there, [Override("a", "*=", 1.0 / factor), Override("m", "+=", -months)])
    assert back["m"] == 5
    assert back["a"]["x"] == pytest.approx(1.0e9) and back["a"]["ys"] == pytest.approx([2.0, 3.5])
