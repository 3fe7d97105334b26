"""Scenario files: the schema (`schema`), and loading with `extends`, `--set` overrides and clear errors (`loading`).

A scenario is a YAML file. Every lever is either a constant or a dated series
(`[{from: 2023-12-28, value: 2.0}, ...]`, each value holding until the next `from`); the levers are
declared in `corridor.levers`.
"""
from ..levers import CitySplit, Series, Step, TextStep
from .loading import (apply_overrides, bundled_dir, bundled_names, check_rules, check_scale, check_seed, deep_merge,
                      format_validation, json_schema, load, load_raw, read_yaml, resolve, scenario_hash, schema_fields,
                      schema_submodel, with_run_settings)
from .schema import (COMPARISONS, SEED_LIMIT, STATISTICS, Behaviour, Caravan, Condition, Crossing, Departures, Inspection,
                     Leg, Nationality, Place, Policies, Rule, RuleAction, Scenario, Sector)

__all__ = [
    "CitySplit", "Series", "Step", "TextStep", "apply_overrides", "bundled_dir", "bundled_names", "check_rules",
    "check_scale", "check_seed", "with_run_settings", "SEED_LIMIT",
    "deep_merge", "format_validation", "json_schema", "load", "load_raw", "read_yaml", "resolve", "scenario_hash",
    "schema_fields", "schema_submodel", "COMPARISONS", "STATISTICS", "Behaviour", "Caravan", "Condition", "Crossing",
    "Departures", "Inspection", "Leg", "Nationality", "Place", "Policies", "Rule", "RuleAction", "Scenario", "Sector",
]
