"""Sweeps: many short trainings of one recipe's variations, run on a Dask cluster and ranked by their metrics.

``minigan sweep SPEC`` reads a spec (:mod:`minigan.sweep.spec`), runs each
trial (:mod:`minigan.sweep.trial`) on Dask workers (:mod:`minigan.sweep.execute`)
and writes a ranked table and figures (:mod:`minigan.sweep.report`). Dask is
needed only to run a sweep (``pip install 'minigan[sweep]'``), not to import this package.
"""

from minigan.sweep.execute import SweepError, run_sweep
from minigan.sweep.report import ranked, ranked_table, write_figures
from minigan.sweep.spec import Spec, Trial, describe_specs, load_spec, spec_names
from minigan.sweep.trial import run_trial

__all__ = ["Spec", "Trial", "SweepError", "load_spec", "spec_names", "describe_specs", "run_sweep", "run_trial",
           "ranked", "ranked_table", "write_figures"]
