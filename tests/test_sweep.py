"""``minigan sweep``: specs checked up front, trials on Dask workers (local, remote, dying), resume, the report."""

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")
import cloudpickle  # noqa: E402
import dask  # noqa: E402

from minigan.cli import main  # noqa: E402
from minigan.registry import ConfigError  # noqa: E402
from minigan.serialization import read_jsonl  # noqa: E402
from minigan.sweep import execute, load_spec, ranked_table, run_sweep, spec_names, write_figures  # noqa: E402
from minigan.sweep.execute import _payload  # noqa: E402
from minigan.sweep.search import Proposer  # noqa: E402
from minigan.sweep.trial import run_trial  # noqa: E402

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this file

TINY = """
description = "tiny"
recipe = "ring8"
rank = ["mode_coverage.high_quality_fraction", "max"]
[set]
"train.steps" = 20
"data.batch_size" = 32
"model.g_hidden" = [16]
"model.d_hidden" = [16]
"train.sample_every" = 1000
[grid]
{grid}
[eval]
n = 200
metrics = ["mode_coverage"]
"""
FOUR = '"loss.name" = ["lsgan", "hinge"]\n"train.seed" = [0, 1]'


def tiny(tmp_path, grid=FOUR, name="tiny"):
    path = tmp_path / f"{name}.toml"
    path.write_text(TINY.format(grid=grid))
    return load_spec(str(path))


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes on loopback, configured as run_sweep configures its own."""
    with dask.config.set(execute.CLUSTER_CONFIG):
        local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                         dashboard_address=None, silence_logs=50)
    try:
        yield local.scheduler_address
    finally:
        local.close()


def test_local_sweep_writes_records_table_and_figures_then_resumes_without_rerunning(tmp_path, cluster):
    spec = tiny(tmp_path)
    out = tmp_path / "sweep"
    records = run_sweep(spec, out, workers=2, progress=False)  # its own LocalCluster
    assert [r["status"] for r in records] == ["done"] * 4, records
    assert {r["name"] for r in records} == {f"loss.name={loss},train.seed={seed}" for loss in ("lsgan", "hinge")
                                            for seed in (0, 1)}
    assert len({r["id"] for r in records}) == 4
    assert all(r["worker"].startswith("tcp://127.0.0.1:") for r in records)
    assert all("mode_coverage" in r["metrics"] and r["error"] is None for r in records)
    assert len(read_jsonl(out / "results.jsonl")) == 4
    rows = (out / "results.csv").read_text().splitlines()
    assert rows[0].startswith("id,name,loss.name,train.seed,status,mode_coverage.high_quality_fraction")
    assert len(rows) == 5
    figures = write_figures(spec, records, out)
    assert set(figures) == {"metric_vs_loss.name.png", "metric_vs_train.seed.png", "best.png"}
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in figures.values())
    table = ranked_table(spec, records)
    assert "4 done, 0 failed" in table and "loss.name=lsgan,train.seed=1" in table

    checkpoints = {r["id"]: (out / "trials" / r["id"] / "checkpoint.safetensors").stat().st_mtime_ns
                   for r in records}
    again = run_sweep(spec, out, scheduler=cluster, progress=False)
    assert again == records
    assert len(read_jsonl(out / "results.jsonl")) == 4  # nothing ran again
    assert {i: (out / "trials" / i / "checkpoint.safetensors").stat().st_mtime_ns for i in checkpoints} == checkpoints


def test_a_failing_trial_is_recorded_with_one_line_and_rerun_on_resume(tmp_path, cluster):
    # a threshold every loss exceeds: training stops as diverged at its first step, every time
    spec = tiny(tmp_path, '"train.explosion_threshold" = [1e8, 1e-9]')
    out = tmp_path / "sweep"
    done, failed = run_sweep(spec, out, scheduler=cluster, progress=False)
    assert done["status"] == "done" and failed["status"] == "failed"
    assert failed["error"].startswith("TrainingDiverged: ") and "\n" not in failed["error"]
    assert failed["metrics"] == {}
    assert "failed:" in ranked_table(spec, [done, failed]).splitlines()[-2]
    run_sweep(spec, out, scheduler=cluster, progress=False)  # the failed trial runs again, the done one does not
    ids = [r["id"] for r in read_jsonl(out / "results.jsonl")]
    assert sorted(ids[:2]) == sorted([done["id"], failed["id"]]) and ids[2:] == [failed["id"]]


def dying_trial(trial, folder, *args):
    """Kill the worker process on the first attempt of the trial of seed 0, and on every attempt of seed 2's."""
    marker = Path(folder).with_name(Path(folder).name + ".attempted")
    seed = trial["swept"]["train.seed"]
    if seed == 2 or (seed == 0 and not marker.exists()):
        marker.touch()
        os._exit(1)
    return run_trial(trial, folder, *args)


def test_a_trial_whose_worker_dies_is_retried_once(tmp_path, cluster):
    retried, untouched = run_sweep(tiny(tmp_path, '"train.seed" = [0, 1]'), tmp_path / "sweep", scheduler=cluster,
                                   progress=False, trial_function=dying_trial)
    assert retried["status"] == "done" and untouched["status"] == "done"
    assert (tmp_path / "sweep" / "trials" / f"{retried['id']}.attempted").exists()
    # on its own: two workers dying at once could both have held a rescheduled trial
    (given_up,) = run_sweep(tiny(tmp_path, '"train.seed" = [2]'), tmp_path / "sweep", scheduler=cluster,
                            progress=False, trial_function=dying_trial)
    assert given_up["status"] == "failed" and given_up["error"].startswith("KilledWorker: ")
    assert "\n" not in given_up["error"]


def test_trials_run_on_the_workers_of_a_scheduler_given_by_address(tmp_path):
    dask_command = str(Path(sys.executable).with_name("dask"))
    scheduler_file = tmp_path / "scheduler.json"
    common = {"cwd": tmp_path, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [subprocess.Popen([dask_command, "scheduler", "--host", "127.0.0.1", "--port", "0",
                                   "--no-dashboard", "--scheduler-file", str(scheduler_file)], **common)]
    try:
        for _ in range(2):
            processes.append(subprocess.Popen([dask_command, "worker", "--scheduler-file", str(scheduler_file),
                                               "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"],
                                              **common))
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        with distributed.Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
            workers = set(client.scheduler_info()["workers"])
        records = run_sweep(tiny(tmp_path), tmp_path / "sweep", scheduler=address, progress=False)
        assert [r["status"] for r in records] == ["done"] * 4
        assert {r["worker"] for r in records} <= workers
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in reversed(processes):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_every_shipped_spec_builds_its_trials():
    names = spec_names()
    assert {"losses-ring8", "losses-grid25", "losses-digits", "tune-ring8", "tune-dcgan-digits"} <= set(names)
    for name in names:
        spec = load_spec(name)
        assert spec.trials and len({t.id for t in spec.trials}) == len(spec.trials)
    losses = {t.swept["loss.name"] for t in load_spec("losses-ring8").trials}
    assert losses == set(("fgan-hellinger fgan-js fgan-kl fgan-pearson fgan-reverse-kl fgan-tv hinge lsgan minimax "
                          "nonsaturating ragan rsgan wasserstein").split())


def test_a_bad_key_names_the_trial_and_key(tmp_path):
    with pytest.raises(ConfigError, match=r"trial loss\.name=hinge,optim\.g_lrr=0\.1: .*optim\.g_lrr"):
        tiny(tmp_path, '"loss.name" = ["hinge"]\n"optim.g_lrr" = [0.1]')
    with pytest.raises(ConfigError, match=r"trial train\.seed=-1: .*train\.seed must be in"):
        tiny(tmp_path, '"train.seed" = [0, -1]')
    with pytest.raises(ConfigError, match=r"trial loss\.name=began: .*only game 'began'"):  # D gives no energy
        tiny(tmp_path, '"loss.name" = ["hinge", "began"]')


def test_an_evaluation_the_data_cannot_have_stops_the_sweep_before_any_training(tmp_path):
    spec = TINY.format(grid='"train.seed" = [0]')
    for text, message in ((spec.replace('metrics = ["mode_coverage"]', 'metrics = ["fd"]'),
                           r"eval\.metrics: 'fd' cannot be computed on ring8; choose from mode_coverage"),
                          (spec.replace('rank = ["mode_coverage', 'rank = ["mmd'),
                           r"rank: 'mmd\.high_quality_fraction' is not a metric this sweep evaluates")):
        path = tmp_path / "evaluation.toml"
        path.write_text(text)
        with pytest.raises(ConfigError, match=r"trial train\.seed=0: " + message):
            load_spec(str(path))


def test_a_key_with_list_values_is_swept_and_drawn_as_categories(tmp_path, cluster):
    spec = tiny(tmp_path, '"model.g_hidden" = [[16], [16, 16]]')
    assert [t.config["model"]["g_hidden"] for t in spec.trials] == [[16], [16, 16]]
    records = run_sweep(spec, tmp_path / "sweep", scheduler=cluster, progress=False)
    assert [r["status"] for r in records] == ["done", "done"], records
    figures = write_figures(spec, records, tmp_path / "sweep")
    assert figures["metric_vs_model.g_hidden.png"].read_bytes().startswith(b"\x89PNG")


def test_random_draws_are_seeded_and_crossed_with_the_grid(tmp_path):
    path = tmp_path / "random.toml"
    path.write_text(TINY.format(grid=FOUR) + '[random]\nsamples = 3\nseed = 7\n"optim.g_lr" = '
                    '{log_uniform = [1e-4, 1e-2]}\n"optim.beta1" = {choice = [0.0, 0.5]}\n')
    spec, again = load_spec(str(path)), load_spec(str(path))
    assert len(spec.trials) == 12 and [t.id for t in spec.trials] == [t.id for t in again.trials]
    assert all(1e-4 <= t.config["optim"]["g_lr"] <= 1e-2 for t in spec.trials)
    assert spec.keys == ["loss.name", "train.seed", "optim.g_lr", "optim.beta1"]


def one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and captured.err.startswith("minigan: ")
    return captured.err


def test_cli_user_errors_are_one_line_with_status_2(tmp_path, capsys, monkeypatch):
    assert "unknown sweep 'nope'" in one_line_error(capsys, ["sweep", "nope"])
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.format(grid='"optim.g_lrr" = [0.1]'))
    assert "optim.g_lrr" in one_line_error(capsys, ["sweep", str(bad), "--out", str(tmp_path / "o")])
    assert not (tmp_path / "o").exists()
    monkeypatch.setattr(execute, "CONNECT_TIMEOUT", 2)
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY.format(grid=FOUR))
    err = one_line_error(capsys, ["sweep", str(spec), "--scheduler", "tcp://127.0.0.1:1", "--out",
                                  str(tmp_path / "o")])
    assert "--scheduler tcp://127.0.0.1:1: cannot connect within 2 s" in err
    assert "--workers sizes the local cluster" in one_line_error(
        capsys, ["sweep", str(spec), "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"])
    assert "name a SPEC" in one_line_error(capsys, ["sweep"])


def test_cli_lists_the_shipped_sweeps(capsys):
    assert main(["sweep", "--list"]) == 0
    assert "losses-ring8" in capsys.readouterr().out


def test_without_dask_the_sweep_says_how_to_get_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed raises ImportError
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY.format(grid=FOUR))
    err = one_line_error(capsys, ["sweep", str(spec), "--out", str(tmp_path / "o")])
    assert err == "minigan: minigan sweep needs dask: pip install 'minigan[sweep]'\n"


SEARCH = TINY.replace("[grid]\n{grid}\n", "[optuna]\ntrials = {trials}\nseed = 3\n{laws}\n")
LAWS = '"optim.g_lr" = {log_uniform = [1e-4, 1e-1]}\n"loss.name" = {choice = ["lsgan", "hinge"]}'


def search(tmp_path, trials, laws=LAWS):
    path = tmp_path / "search.toml"
    path.write_text(SEARCH.format(trials=trials, laws=laws))
    return load_spec(str(path))


def scored_without_training(trial, folder, *args):
    """A done record whose score peaks at g_lr = 1e-2 with the hinge loss; the folder shows that it ran."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / "ran").touch()
    g_lr, loss = trial["swept"].get("optim.g_lr", 1e-2), trial["swept"]["loss.name"]
    score = 1.0 - (math.log10(g_lr) + 2.0) ** 2 / 4 - 0.5 * (loss != "hinge")
    return {**{k: trial[k] for k in ("id", "name", "swept", "overrides", "recipe")}, "status": "done",
            "error": None, "metrics": {"mode_coverage": {"high_quality_fraction": score}}, "wall_time": 0.0,
            "commit": None, "finished_at": "", "worker": "fake"}


def test_an_optuna_search_proposes_from_earlier_results_and_resumes(tmp_path):
    out = tmp_path / "sweep"
    spec = search(tmp_path, 20)
    assert spec.trials == [] and spec.keys == ["optim.g_lr", "loss.name"]
    records = run_sweep(spec, out, workers=1, progress=False, trial_function=scored_without_training)
    assert len(records) == 20 and len({r["id"] for r in records}) == 20
    assert [r["id"] for r in read_jsonl(out / "results.jsonl")] == [r["id"] for r in records]
    scores = [r["metrics"]["mode_coverage"]["high_quality_fraction"] for r in records]
    # TPE's 10 random start-up points, then 10 modelled on them: the modelled ones score better
    assert sum(scores[10:]) > sum(scores[:10]) and max(scores) > 0.9, scores
    assert all(1e-4 <= r["swept"]["optim.g_lr"] <= 1e-1 for r in records)
    rows = (out / "results.csv").read_text().splitlines()
    assert rows[0].startswith("id,name,optim.g_lr,loss.name,status,") and len(rows) == 21

    again = run_sweep(search(tmp_path, 24), out, workers=1, progress=False, trial_function=scored_without_training)
    assert again[:20] == records and len(again) == 24  # the 20 recorded ones were told, not run again
    assert len(read_jsonl(out / "results.jsonl")) == 24
    assert sum((out / "trials" / r["id"] / "ran").exists() for r in again) == 24


def test_an_optuna_search_on_one_worker_is_reproducible_from_its_seed(tmp_path):
    runs = [run_sweep(search(tmp_path, 12), tmp_path / f"sweep{i}", workers=1, progress=False,
                      trial_function=scored_without_training) for i in range(2)]
    assert [r["swept"] for r in runs[0]] == [r["swept"] for r in runs[1]]
    reseeded = (tmp_path / "search.toml").read_text().replace("seed = 3", "seed = 4")
    (tmp_path / "search.toml").write_text(reseeded)
    other = run_sweep(load_spec(str(tmp_path / "search.toml")), tmp_path / "sweep2", workers=1, progress=False,
                      trial_function=scored_without_training)
    assert [r["swept"] for r in other] != [r["swept"] for r in runs[0]]


def test_a_point_proposed_again_is_told_its_result_without_running(tmp_path):
    spec = search(tmp_path, 6, '"loss.name" = {choice = ["lsgan", "hinge"]}')
    proposer = Proposer(spec, [])
    first = proposer.propose(3)  # a third new point does not exist: repeats are told pruned until the budget ends
    assert 1 <= len(first) <= 2 and len({t.id for t in first}) == len(first)
    assert proposer.finished == len(proposer.study.trials) - len(first)
    ran = list(first)
    for t in first:
        proposer.tell(scored_without_training(_payload(t), tmp_path / t.id))
    while not proposer.exhausted:
        for t in proposer.propose(1):
            ran.append(t)
            proposer.tell(scored_without_training(_payload(t), tmp_path / t.id))
    assert len({t.id for t in ran}) == len(ran) <= 2  # 6 points settled, each value trained at most once
    assert proposer.finished == 6 and len(proposer.records) == len(ran)


def test_an_optuna_search_trains_real_trials_on_the_cluster(tmp_path, cluster):
    spec = search(tmp_path, 3, '"optim.g_lr" = {log_uniform = [1e-4, 1e-2]}\n"model.g_hidden" = {choice = [[16], [8]]}')
    records = run_sweep(spec, tmp_path / "sweep", scheduler=cluster, progress=False)
    assert [r["status"] for r in records] == ["done"] * 3, records
    assert all(r["swept"]["model.g_hidden"] in ([16], [8]) for r in records)
    figures = write_figures(spec, records, tmp_path / "sweep")
    assert {"metric_vs_optim.g_lr.png", "metric_vs_model.g_hidden.png", "best.png"} <= set(figures)
    assert "3 trials, 3 done, 0 failed" in ranked_table(spec, records)


def test_an_optuna_search_is_checked_when_it_is_loaded(tmp_path):
    with pytest.raises(ConfigError, match=r"\[optuna\] proposes every trial, so it takes no \[grid\]"):
        path = tmp_path / "both.toml"
        path.write_text(TINY.format(grid=FOUR) + "[optuna]\ntrials = 4\n" + LAWS + "\n")
        load_spec(str(path))
    with pytest.raises(ConfigError, match=r"\[optuna\] trials must be a positive integer, got 0"):
        search(tmp_path, 0)
    with pytest.raises(ConfigError, match=r"\[optuna\] optim\.g_lr: log_uniform needs low > 0"):
        search(tmp_path, 4, '"optim.g_lr" = {log_uniform = [0, 1e-2]}')
    with pytest.raises(ConfigError, match=r"\[optuna\] names no key to search"):
        search(tmp_path, 4, "")
    # a bound the configuration refuses: caught before anything runs, naming the point
    with pytest.raises(ConfigError, match=r"trial optim\.g_lr=0\.0001,optim\.beta1=1\.5: .*optim\.beta1 must be in"):
        search(tmp_path, 4, '"optim.g_lr" = {log_uniform = [1e-4, 1e-2]}\n"optim.beta1" = {uniform = [0.0, 1.5]}')


def test_the_specs_in_the_sweeps_page_load(tmp_path):
    page = (Path(__file__).parents[1] / "docs" / "sweeps.md").read_text()
    blocks = [block.split("```")[0] for block in page.split("```toml\n")[1:]]
    assert len(blocks) == 2
    specs = []
    for i, block in enumerate(blocks):
        path = tmp_path / f"example{i}.toml"
        path.write_text(block)
        specs.append(load_spec(str(path)))
    assert len(specs[0].trials) == 9 * 8 and specs[1].search.trials == 24


def test_without_optuna_a_search_says_how_to_get_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    path = tmp_path / "search.toml"
    path.write_text(SEARCH.format(trials=2, laws=LAWS))
    err = one_line_error(capsys, ["sweep", str(path), "--out", str(tmp_path / "o")])
    assert err == "minigan: an [optuna] sweep needs optuna: pip install 'minigan[sweep]'\n"
