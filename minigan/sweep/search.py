"""A search's trials, proposed by Optuna's TPE sampler from the results of those before them.

An ``[optuna]`` spec (:mod:`minigan.sweep.spec`) names ``trials`` and a law
per key. :class:`Proposer` holds an Optuna study of those laws: it asks the
study for a point whenever a worker is free, and tells it each finished
trial's rank metric (a failed trial, or one without a finite metric, is
told as failed). TPE draws its first 10 points at random, then models the
good and the bad points seen so far and proposes where good ones are
likelier (Bergstra et al. 2011). While trials run, the sampler assumes the
worst for those in flight (Optuna's *constant liar*), so that parallel
workers do not all get the same point.

Resuming a search gives the study every trial recorded in the sweep folder
(done or failed) before asking for more: a search of ``trials = 24`` that
stopped after 10 runs 14 more. With more than one worker, which trials
finish first decides what is proposed next, so two runs of the same search
may differ; with one worker it is reproducible from its seed.
"""

from __future__ import annotations

import math
import warnings

from minigan.sweep.spec import Spec, Trial
from minigan.sweep.trial import rank_value

__all__ = ["Proposer"]


def _distribution(optuna, kind: str, args: list):
    """The Optuna distribution of a law; a choice is the index of one of its values, which may be lists."""
    if kind == "choice":
        return optuna.distributions.CategoricalDistribution(list(range(len(args))))
    if kind == "int_uniform":
        return optuna.distributions.IntDistribution(int(args[0]), int(args[1]))
    return optuna.distributions.FloatDistribution(float(args[0]), float(args[1]), log=kind == "log_uniform")


class Proposer:
    """Optuna's study of ``spec.search``, given the ``records`` already in the sweep folder that belong to it."""

    def __init__(self, spec: Spec, records: list[dict]):
        import optuna  # installed with minigan[sweep]; run_sweep says so when it is not

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._optuna = optuna
        self.spec, self.laws = spec, spec.search.laws
        self.distributions = {key: _distribution(optuna, *law) for key, law in self.laws.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(seed=spec.search.seed, constant_liar=True)
        self.study = optuna.create_study(direction="maximize" if spec.rank[1] == "max" else "minimize",
                                         sampler=sampler)
        self.records: list[dict] = []   # this search's records, in the order they were made
        self.pending: dict = {}         # trial id -> the Optuna trial waiting for its record
        for record in records:
            params = self._params(record.get("swept", {}))
            if params is not None and self.spec.trial(record["swept"]).id == record["id"]:  # same settings
                value = self._value_of(record)
                outcome = {"state": optuna.trial.TrialState.FAIL} if value is None else {"value": value}
                self.study.add_trial(optuna.trial.create_trial(params=params, distributions=self.distributions,
                                                               **outcome))
                self.records.append(record)

    @property
    def exhausted(self) -> bool:
        return len(self.study.trials) >= self.spec.search.trials

    @property
    def finished(self) -> int:
        """Points of the budget settled: recorded, or told without running."""
        return len(self.study.trials) - len(self.pending)

    def propose(self, count: int) -> list[Trial]:
        """Up to ``count`` new trials to run, within the search's budget.

        A point that repeats a recorded trial is told that trial's outcome,
        and one that repeats a trial in flight is told it was pruned; either
        counts toward the budget and runs nothing.
        """
        trials = []
        while len(trials) < count and not self.exhausted:
            asked = self.study.ask(self.distributions)
            t = self.spec.trial({key: self._value(key, asked.params[key]) for key in self.laws})
            done = next((r for r in self.records if r["id"] == t.id), None)
            if done is not None:
                self._tell(asked, self._value_of(done))
            elif t.id in self.pending:
                self.study.tell(asked, state=self._optuna.trial.TrialState.PRUNED)
            else:
                self.pending[t.id] = asked
                trials.append(t)
        return trials

    def tell(self, record: dict) -> None:
        """Give the study the outcome of a trial it proposed."""
        self._tell(self.pending.pop(record["id"]), self._value_of(record))
        self.records.append(record)

    def _value_of(self, record: dict) -> float | None:
        """The rank metric of a done trial; None for a failed one, or one without a finite metric."""
        value = rank_value(record, self.spec.rank[0]) if record.get("status") == "done" else None
        return float(value) if value is not None and math.isfinite(value) else None

    def _tell(self, asked, value: float | None) -> None:
        if value is None:
            self.study.tell(asked, state=self._optuna.trial.TrialState.FAIL)
        else:
            self.study.tell(asked, value)

    def _value(self, key: str, param):
        kind, args = self.laws[key]
        return args[param] if kind == "choice" else param

    def _params(self, swept: dict) -> dict | None:
        """Optuna's parameters of a recorded point, or None if it is not a point of this search."""
        if set(swept) != set(self.laws):
            return None
        params = {}
        for key, value in swept.items():
            kind, args = self.laws[key]
            if kind == "choice":
                if value not in args:
                    return None
                params[key] = args.index(value)
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and args[0] <= value <= args[1]:
                params[key] = int(value) if kind == "int_uniform" else float(value)
            else:
                return None
        return params
