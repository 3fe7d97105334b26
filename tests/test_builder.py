"""The scenario builder (corridor.build): it regenerates the bundled us-mexico.yaml byte for byte, `--check`
tells a stale file from a fresh one, and the parts users rely on (facts citations, fitted markers) hold."""
from __future__ import annotations

import pytest
import yaml

from corridor.build import __main__ as cli
from corridor.build import build
from corridor.build.checks import SAFE_LOADER, check
from corridor.build.emit import dump, tree
from corridor.build.facts import Facts
from corridor.build.fit import Fit
from corridor.build.inputs import FIT_FILE, SCENARIO, BuildError
from corridor.build.us_mexico import marked


@pytest.fixture(scope="module")
def built():
    """One build for the module (a few seconds): every test below reads it."""
    b = build()
    check(b)
    return b


@pytest.fixture
def cli_uses(built, monkeypatch):
    """`python -m corridor.build` without building again: its build returns the module's build."""
    monkeypatch.setattr(cli, "build", lambda fit_path=FIT_FILE: built)


def test_builder_regenerates_the_bundled_scenario_byte_for_byte(built, cli_uses, tmp_path):
    out = tmp_path / "us-mexico.yaml"
    assert cli.main(["--out", str(out)]) == 0
    assert out.read_bytes() == SCENARIO.read_bytes()
    assert built.text.encode("utf-8") == SCENARIO.read_bytes()


def test_check_passes_on_the_committed_file(cli_uses, capsys):
    assert cli.main(["--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_check_fails_on_a_modified_copy_and_says_where(cli_uses, tmp_path, capsys):
    stale = tmp_path / "us-mexico.yaml"
    stale.write_text(SCENARIO.read_text(encoding="utf-8").replace("spinup_days: 120", "spinup_days: 90"),
                     encoding="utf-8")
    assert cli.main(["--check", "--out", str(stale)]) == 1
    err = capsys.readouterr().err
    assert str(stale) in err and "differs from what the builder writes" in err
    assert "line 14" in err and "spinup_days: 90" in err and "python -m corridor.build" in err


def test_check_of_a_missing_file_fails(cli_uses, tmp_path, capsys):
    assert cli.main(["--check", "--out", str(tmp_path / "none.yaml")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_a_facts_citation_names_the_file_the_row_and_the_quantity():
    F = Facts()
    cite = F.cite("transit", 85, "Bus fare & time Tapachula")
    assert cite.startswith("facts_transit.csv row 85 (Bus fare & time Tapachula")
    value, cite = F.num("us", 121, "Port Laredo total two-way trade", r"\$([\d,]+) billion")
    assert value == 320.0 and cite.startswith("facts_us.csv row 121 (")


def test_a_missing_or_moved_facts_row_is_a_clear_error_naming_file_and_row():
    F = Facts()
    with pytest.raises(BuildError, match=r"facts_us\.csv: no row 99999"):
        F.row("us", 99999, "anything")
    with pytest.raises(BuildError, match=r"facts_transit\.csv row 85: expected a row about 'Darién'"):
        F.row("transit", 85, "Darién")
    with pytest.raises(BuildError, match=r"facts_us\.csv row 121 .*pattern"):
        F.num("us", 121, "Port Laredo total two-way trade", r"no such ([\d]+) text")


def test_every_fitted_value_is_in_the_yaml_and_marked_fitted(built):
    fit = Fit.read(FIT_FILE)
    assert fit and not built.fit.unused()
    lines = built.text.splitlines()
    marked = [ln for ln in lines if "  # fitted: " in ln]
    assert len(marked) == len(fit)
    raw = yaml.load(built.text, Loader=SAFE_LOADER)
    venezuela = next(n for n in raw["nationalities"] if n["name"] == "Venezuela")
    value, note = fit.values["nationalities.Venezuela.departures.base_per_day"]
    assert venezuela["departures"]["base_per_day"] == value
    assert f"base_per_day: {value}  # {note}" in built.text
    assert "src/corridor/data/calibration/us-mexico.fit.yaml" in note


def test_a_fitted_value_replaces_the_guess_says_so_in_the_source_and_is_marked():
    fit = Fit({"sectors.Yuma.processing_capacity": (321.0, "fitted: test, 2026-01-01, training objective 1")})
    item = {"name": "Yuma", "city": "yuma-az", "processing_capacity": 919.0,
            "source": "holding_capacity: derived; processing_capacity: initial guess"}
    fit.apply([item], "sectors")
    assert item["processing_capacity"] == 321.0 and not fit.unused()
    assert "processing_capacity: fitted (marked `# fitted:`); before fitting: initial guess" in item["source"]
    text = dump(tree({"sectors": [marked(item, fit, "sectors")]}))
    assert "processing_capacity: 321.0  # fitted: test, 2026-01-01, training objective 1\n" in text
    with pytest.raises(BuildError, match="names no sectors item"):
        Fit({"sectors.Nowhere.processing_capacity": (1.0, "fitted: x")}).apply([item], "sectors")


def test_assumed_values_and_sources_stay_beside_them(built):
    text = built.text
    assert "spinup_days: 120  # assumed: four months" in text
    assert "push_delay_days: 120  # assumed" in text
    assert "value: 1}  # 1.0 = the calibrated 2023 level" in text
    assert "# derived: model events" in text and "facts_policy_2024.csv row 17" in text   # Mexico's 2024 steps
    raw = yaml.load(text, Loader=SAFE_LOADER)
    assert all(item["source"] for key in ("places", "legs", "crossings", "sectors", "nationalities")
               for item in raw[key])
    assert "&id" not in text and "*id" not in text      # no YAML anchors: every value written out in full
