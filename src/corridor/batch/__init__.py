"""Batches of simulations: ensembles, sensitivity analyses and calibration, each many runs of one scenario.

    runs         run specs, running one run on a worker, the dask client, execution with retries, resumable DIRs
    ranges       `PATH=LOW:HIGH` ranges of scenario fields, checked against the schema
    ensemble     N runs with derived seeds (and drawn parameters), quantile bands
    sensitivity  Morris or Sobol indices of outputs to parameters and levers (SALib)
    calibration  fitting a scenario to observed data (optuna on dask), against its targets file
"""
