"""Fitting the uncertain parameters of a scenario to observed data, and saying how well it fits.

    from corridor.batch.calibration import calibrate
    result = calibrate("us-mexico", observed=None, trials=200, out="runs/fit", scale=20, workers=2)

    targets    the scenario's targets file (data/calibration/<name>.targets.yaml): published figures, groups
    params     fitted parameters: `PATH=LOW:HIGH[:log|:int]` specs, the default set, overlays of fitted values
    objective  windows and the objective's terms over a window
    ratio      running the scenario for the fit; ratio scaling of the base departure rates; one trial
    study      the optuna study on dask with its journal (resumable, reproducible for any number of workers)
    outputs    best.yaml, fit.json, report.md, and the defaults file for a scenario builder
"""
from .outputs import defaults_text, write_defaults
from .study import CalibrationResult, calibrate
from .targets import Targets, load_targets

__all__ = ["CalibrationResult", "Targets", "calibrate", "defaults_text", "load_targets", "write_defaults"]
