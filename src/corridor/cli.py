"""Command line: corridor run | validate | compare | calibrate | ensemble | sensitivity | scenarios | schema.

Every user error exits with status 2 and one line naming the file, field, value and what is valid.
"""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from .errors import ConservationError, InputError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="corridor: an agent-based simulator of the migration corridor to the US southwest border.")
console = Console()
err_console = Console(stderr=True)


def friendly(fn):
    """Turn user errors into one clear line and exit status 2; a broken books check into status 1."""
    @functools.wraps(fn)
    def wrapper(*a, **kw):
        try:
            return fn(*a, **kw)
        except InputError as e:
            err_console.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
            raise typer.Exit(2)
        except ConservationError as e:
            err_console.print(f"[bold red]conservation check failed:[/] {e}", highlight=False, soft_wrap=True)
            raise typer.Exit(1)
        except KeyboardInterrupt:
            err_console.print("interrupted: nothing half-written was left behind")
            raise typer.Exit(130)
    return wrapper


def _progress(label: str):
    return Progress(TextColumn(f"[bold]{label}"), BarColumn(), TextColumn("{task.completed}/{task.total} days"),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=err_console, transient=False)


def run_with_progress(sim, label: str, quiet: bool = False):
    if quiet:
        return sim.run()
    with _progress(label) as bar:
        task = bar.add_task("run", total=sim.world.n_days)
        return sim.run(progress=lambda done, total: bar.update(task, completed=done) if done % 10 == 0 or done == total else None)


def world_tables(world):
    from .report import WorldTables
    import pandas as pd
    sc = world.scenario
    places = pd.DataFrame([{"id": p.id, "name": p.name, "kind": p.kind, "country": p.country, "lat": p.lat,
                            "lon": p.lon} for p in sc.places])
    legs = pd.DataFrame([{"id": l.id, "from_place": l.from_place, "to_place": l.to_place, "mode": l.mode}
                         for l in sc.legs])
    return WorldTables(places=places, legs=legs)


def _notes(sc) -> dict:
    return {sc.name: sc.notes.get(sc.name, sc.description or "")}


def _print_summary(sim) -> None:
    from .results import summarise
    s = summarise(sim.to_df(), sim.info)
    m = s["monthly"]
    t = Table(title=f"{sim.scenario.name}: monthly totals (people)", show_lines=False)
    t.add_column("month")
    cols = [c for c in ("sw_encounters", "usbp_encounters", "ofo_encounters", "darien_crossings", "mexico_detentions",
                        "releases", "removals", "returns_to_mexico") if c in m.columns]
    for c in cols:
        t.add_column(c.replace("_", " "), justify="right")
    for month, row in m.iterrows():
        t.add_row(month, *[f"{row[c]:,.0f}" for c in cols])
    console.print(t)
    info = sim.info
    console.print(f"agents created {info['agents_created']:,} · agent-days {info['agent_days']:,} · "
                  f"{info['agent_days'] / max(info['wall_seconds'], 1e-9) / 1e6:.1f} M agent-days/s · "
                  f"wall {info['wall_seconds']:.1f} s · peak day {s['peak_day'][0]}: {s['peak_day'][1]:,.0f} encounters")


@app.command()
@friendly
def run(
    scenario: str = typer.Argument("us-mexico", help="bundled scenario name or path to a YAML file"),
    out: Path = typer.Option(Path("runs/us-mexico"), "--out", "-o", help="output directory"),
    seed: Optional[int] = typer.Option(None, help="random seed (default: the scenario's)"),
    scale: Optional[float] = typer.Option(None, help="people per agent (default: the scenario's, 1)"),
    set_: List[str] = typer.Option([], "--set", help="override a field: dotted.path=value (repeatable)"),
    report: bool = typer.Option(True, "--report/--no-report", help="write report.html beside the results"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
):
    """Run a scenario: metrics.parquet, run.json and report.html in --out."""
    from .engine import Simulation
    sim = Simulation.from_scenario(scenario, seed=seed, scale=scale, overrides=set_)
    run_with_progress(sim, sim.scenario.name, quiet)
    out_dir = sim.save(out)
    if not quiet:
        _print_summary(sim)
    if report:
        from .observed import load_observed
        from .report import write_report
        write_report(out_dir, {sim.scenario.name: sim.to_df()}, world_tables(sim.world), observed=load_observed(),
                     title=f"corridor: {sim.scenario.name}", notes=_notes(sim.scenario), baseline=sim.scenario.name)
    console.print(f"results in {out_dir}/ (metrics.parquet, run.json{', report.html' if report else ''})")


@app.command()
@friendly
def validate(
    run_dir: Path = typer.Argument(..., help="a run directory (with metrics.parquet)"),
    observed: Optional[Path] = typer.Option(None, "--observed", help="CSV month,series,value (default: bundled)"),
    start: Optional[str] = typer.Option(None, help="first month compared, YYYY-MM"),
    end: Optional[str] = typer.Option(None, help="last month compared, YYYY-MM"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
):
    """Compare a run with observed monthly data: MAPE, MAE, bias, and naive baselines."""
    from .validate import compare
    result = compare(run_dir, observed, months=(start, end) if (start or end) else None)
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        result.render(console)


@app.command()
@friendly
def schema():
    """Print the JSON Schema of scenario files."""
    from .scenario import json_schema
    print(json.dumps(json_schema(), indent=2))


@app.command()
@friendly
def scenarios():
    """List the bundled scenarios, one line each."""
    from .scenario import bundled_dir, bundled_names, _read_yaml
    for name in bundled_names():
        data = _read_yaml(bundled_dir() / f"{name}.yaml")
        desc = " ".join(str(data.get("description", "")).split())
        console.print(f"[bold]{name:<24}[/] {desc}", highlight=False, soft_wrap=True)


def main():  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
