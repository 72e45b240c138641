import json

import numpy as np
import pytest

import minigan as mg
from minigan import cli, viz
from minigan.runner import RunExists, run_training
from minigan.train import config as cfg
from minigan.train.checkpoint import CHECKPOINT, load_checkpoint
from minigan.train.trainer import Trainer, TrainingDiverged

TINY = ["model.g_width=4", "model.d_width=4", "model.latent_dim=4", "model.g_hidden=[8]", "model.d_hidden=[8]",
        "data.batch_size=8", "train.n_samples=4", "train.log_every=1", "train.sample_every=2",
        "train.checkpoint_every=2"]


def tiny(recipe: str, steps: int = 3, extra=()) -> dict:
    config = cfg.apply_overrides(cfg.load_recipe(recipe), TINY + list(extra))
    config["train"]["steps"] = steps
    return config


# what D's player logs of D's outputs besides its loss: mean logits, energies, or (CatGAN) entropies
OUTPUTS = {"catgan-digits": ("h_real", "h_fake"), "vaegan-digits": ("d_real", "d_reconstructed", "d_prior")}


@pytest.mark.parametrize("recipe", cfg.recipe_names())
def test_every_recipe_runs_and_draws_its_pictures(recipe, tmp_path):
    paths = run_training(tiny(recipe), tmp_path, progress=False)
    for name in ("checkpoint", "samples", "losses", "progress", "metrics"):
        assert paths[name].exists() and paths[name].stat().st_size > 0, name
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3]
    for key in ("d_loss", "g_loss", *OUTPUTS.get(recipe, ("d_real", "d_fake")), "d_grad_norm", "g_grad_norm",
                "steps_per_s"):
        assert all(np.isfinite(r[key]) for r in records), key
    if cfg.load_recipe(recipe)["penalty"]["name"] != "none":
        assert "penalty" in records[0]
    assert load_checkpoint(paths["checkpoint"])["step"] == 3


def _same_state(a, b) -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same_state(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same_state(x, y)
    elif isinstance(a, (mg.Tensor, np.ndarray)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    else:
        assert a == b or (a != a and b != b)


@pytest.mark.parametrize("recipe,extra", [("dcgan-digits", ["optim.ema=0.9"]), ("wgan-gp-grid25", []),
                                          ("sngan-digits", ["model.minibatch_std=true"]),
                                          ("cgan-digits", ["game.projection=true", "optim.d_steps=2"]),
                                          ("acgan-digits", ["penalty.name=r1", "penalty.every=2"]),
                                          ("infogan-digits", ["game.learn_std=true"])])
def test_resume_is_bit_identical_to_an_uninterrupted_run(recipe, extra, tmp_path):
    whole = tmp_path / "whole"
    run_training(tiny(recipe, 5, extra), whole, progress=False)
    part = tmp_path / "part"
    run_training(tiny(recipe, 2, extra), part, progress=False)
    run_training(None, part, resume=True, progress=False, steps=5)
    a, b = load_checkpoint(whole / CHECKPOINT), load_checkpoint(part / CHECKPOINT)
    a["config"]["train"]["steps"] = b["config"]["train"]["steps"] = 5
    _same_state(a, b)
    assert (whole / "metrics.jsonl").read_text().count("\n") == (part / "metrics.jsonl").read_text().count("\n")


def _records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("recipe,extra,keys", [
    ("ring8", [], {"mode_coverage", "mmd"}),
    ("dcgan-digits", [], {"fd", "kid"}),
    ("mlp-digits", ['train.eval_metrics=["precision_recall", "inception_score"]'],
     {"precision", "recall", "inception_score"}),
    ("cgan-digits", [], {"fd", "kid", "label_accuracy"}),
    ("infogan-digits", ['train.eval_metrics=["code_nmi", "class_fd"]'], {"code_nmi", "class_fd"}),
])
def test_metrics_are_evaluated_every_k_steps_and_at_the_end_and_plotted(recipe, extra, keys, tmp_path):
    config = tiny(recipe, 5, ["train.eval_every=2", "train.eval_samples=100", *extra])
    paths = run_training(config, tmp_path, progress=False)
    records = _records(tmp_path / "evaluations.jsonl")
    assert [r["step"] for r in records] == [2, 4, 5]
    for r in records:
        assert set(r) == {"step"} | keys
        assert all(np.isfinite(r[k]) for k in keys)
    assert paths["evaluations"] == tmp_path / "evaluations.jsonl"
    assert paths["metric_curves"] == tmp_path / "metrics.png" and paths["metric_curves"].stat().st_size > 0


def test_without_eval_every_nothing_is_evaluated(tmp_path):
    paths = run_training(tiny("ring8", 2), tmp_path, progress=False)
    assert "metric_curves" not in paths
    assert not (tmp_path / "evaluations.jsonl").exists() and not (tmp_path / "metrics.png").exists()


@pytest.mark.parametrize("recipe,extra,message", [
    ("ring8", ['train.eval_metrics=["fd"]'], "'fd' cannot be computed on ring8; choose from mode_coverage, mmd, c2st"),
    ("dcgan-digits", ['train.eval_metrics=["kid", "fid"]'], "'fid' cannot be computed on digits; choose from fd,"),
    ("ring8", ["train.eval_every=-1"], r"train.eval_every must be in \[0, inf\)"),
])
def test_bad_evaluation_settings_stop_the_run_before_its_first_step(recipe, extra, message, tmp_path, monkeypatch):
    def no_training(self):
        raise AssertionError("training started")

    monkeypatch.setattr(Trainer, "train_step", no_training)
    with pytest.raises(cfg.ConfigError, match=message):
        run_training(tiny(recipe, 3, ["train.eval_every=1", *extra]), tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("recipe,extra", [("sngan-digits", ["optim.ema=0.9", 'train.eval_metrics=["fd", "drs"]']),
                                          ("ring8", [])])
def test_evaluation_leaves_training_untouched_and_a_resumed_run_bit_identical(recipe, extra, tmp_path):
    evaluated = ["train.eval_every=3", "train.eval_samples=60", *extra]
    plain, whole, part = tmp_path / "plain", tmp_path / "whole", tmp_path / "part"
    run_training(tiny(recipe, 5, extra), plain, progress=False)
    run_training(tiny(recipe, 5, evaluated), whole, progress=False)
    run_training(tiny(recipe, 2, evaluated), part, progress=False)
    run_training(None, part, resume=True, progress=False, steps=5)
    a, b, c = (load_checkpoint(run / CHECKPOINT) for run in (whole, part, plain))
    a["config"]["train"]["steps"] = b["config"]["train"]["steps"] = 5
    _same_state(a, b)
    a["config"] = c["config"]
    _same_state(a, c)  # evaluating changed nothing in the networks, the optimisers or the random states
    whole_records, part_records = _records(whole / "evaluations.jsonl"), _records(part / "evaluations.jsonl")
    assert [r["step"] for r in whole_records] == [3, 5]
    assert [r["step"] for r in part_records] == [2, 3, 5]  # the end of the first, shorter run is evaluated too
    assert part_records[1:] == whole_records
    run_training(None, part, resume=True, progress=False, steps=5)  # nothing left to train: nothing re-evaluated
    assert _records(part / "evaluations.jsonl") == part_records


@pytest.mark.parametrize("recipe", ["dcgan-digits", "cgan-digits", "acgan-digits", "infogan-digits"])
def test_each_player_updates_its_networks_and_gets_no_gradient_into_the_others(recipe):
    trainer = Trainer(tiny(recipe))
    networks = trainer.networks
    for player in trainer.players:
        for net in networks.values():
            net.zero_grad()
        before = {name: [p.numpy().copy() for p in net.parameters()] for name, net in networks.items()}
        trainer.play(player, trainer.data.loader.next_batch())
        for name, net in networks.items():
            changed = [not np.array_equal(a, p.numpy()) for a, p in zip(before[name], net.parameters())]
            if name in player.updates:
                assert all(p.grad is not None for p in net.parameters()), (player.name, name)
                assert any(changed), (player.name, name)
            else:
                assert all(p.grad is None for p in net.parameters()), (player.name, name)
                assert not any(changed), (player.name, name)
            assert all(p.requires_grad for p in net.parameters())  # unfrozen again afterwards


def test_the_network_that_only_makes_a_critics_input_records_no_graph():
    trainer = Trainer(tiny("dcgan-digits"))
    game, critic = trainer.game, trainer.players[0]
    with trainer._frozen_except(critic):
        fake = game.G(game.z(4))
        assert not fake.requires_grad and fake._node is None  # as under no_grad: nothing kept for G
        assert game.D(fake).requires_grad  # while D's own graph is recorded
    assert game.G(game.z(4)).requires_grad  # unfrozen again


def _shared_first_layer_gan():
    """A GAN whose generator player also updates D's first layer, named "H": one network shared by two."""
    from minigan.games import GAMES, GAN, Player

    class SharedFirstLayerGAN(GAN):
        networks = ("G", "D", "H")
        players = (Player("D", ("D",), lr="d_lr", critic=True), Player("G", ("G", "H"), lr="g_lr"))

        def build(self):
            networks = super().build()
            return {**networks, "H": networks["D"].net[0]}

    GAMES.register("shared-first-layer")(SharedFirstLayerGAN)


def test_freezing_is_per_parameter_so_a_shared_layer_is_updated_by_whoever_updates_a_network_holding_it(monkeypatch):
    from minigan.games import GAMES

    monkeypatch.setattr(GAMES, "_classes", dict(GAMES._classes))  # registered for this test only
    _shared_first_layer_gan()
    trainer = Trainer(tiny("ring8", extra=["game.name=shared-first-layer", "model.pack=1"]))
    D, H = trainer.networks["D"], trainer.networks["H"]
    shared = {id(p) for p in H.parameters()}
    trainer.play(trainer.players[1], trainer.data.loader.next_batch())  # the generator player: G and H
    for p in D.parameters():
        assert (p.grad is not None) == (id(p) in shared)
    assert all(p.requires_grad for p in D.parameters())
    counted = [p for group in trainer.optimizers["G"].param_groups for p in group["params"]]
    assert len(counted) == len({id(p) for p in counted}) == len(list(trainer.networks["G"].parameters())) + 2


@pytest.mark.parametrize("recipe", ["ring8", "cgan-digits", "acgan-digits", "infogan-digits"])
@pytest.mark.parametrize("player", ["D", "G"])
def test_a_nan_loss_stops_training_naming_the_step_and_keeps_the_last_finite_step(recipe, player, tmp_path,
                                                                                  monkeypatch):
    run_training(tiny(recipe, 3), tmp_path / "straight", progress=False)
    run_training(tiny(recipe, 2), tmp_path / "run", progress=False)
    game_class = type(Trainer(tiny(recipe)).game)
    method = f"{player.lower()}_objective"
    original = getattr(game_class, method)
    calls = []

    def poisoned(self, batch):
        objective = original(self, batch)
        calls.append(1)
        if len(calls) == 2:  # the second step of the resumed run: step 4
            objective.loss = objective.loss * float("nan")
        return objective

    monkeypatch.setattr(game_class, method, poisoned)
    with pytest.raises(TrainingDiverged, match=rf"at step 4: {player.lower()}_loss is nan; .* holds step 3, "):
        run_training(None, tmp_path / "run", resume=True, progress=False, steps=6)
    kept, straight = load_checkpoint(tmp_path / "run" / CHECKPOINT), load_checkpoint(tmp_path / "straight" / CHECKPOINT)
    assert kept["step"] == 3
    for name, weights in straight["networks"].items():
        for key, value in weights.items():
            np.testing.assert_array_equal(kept["networks"][name][key].numpy(), value.numpy())


def test_an_existing_run_is_not_overwritten(tmp_path):
    run_training(tiny("ring8", 1), tmp_path, progress=False)
    before = (tmp_path / CHECKPOINT).read_bytes()
    with pytest.raises(RunExists, match="--resume"):
        run_training(tiny("ring8", 1), tmp_path, progress=False)
    assert (tmp_path / CHECKPOINT).read_bytes() == before


# -- the command ---------------------------------------------------------------------------------
def test_cli_train_sample_and_interpolate(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "mlp-digits", "--steps", "2", "--out", str(out), "--quiet", *sum(
        [["--set", s] for s in TINY], [])]) == 0
    summary = capsys.readouterr().out
    assert "samples.png" in summary and str(out) in summary
    ckpt = str(out / CHECKPOINT)
    assert cli.main(["sample", ckpt, "-n", "5", "-o", str(tmp_path / "s.npy")]) == 0
    samples = np.load(tmp_path / "s.npy")
    assert samples.shape == (5, 1, 8, 8) and samples.min() >= -1 and samples.max() <= 1
    assert cli.main(["sample", ckpt, "-n", "9", "-o", str(tmp_path / "s.png")]) == 0
    assert cli.main(["interpolate", ckpt, "-o", str(tmp_path / "walk.png"), "--rows", "2", "--steps", "3"]) == 0
    assert (tmp_path / "s.png").stat().st_size > 0 and (tmp_path / "walk.png").stat().st_size > 0
    assert cli.main(["recipes"]) == 0
    assert "ring8" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["train", "ring9"], "unknown recipe 'ring9'"),
    (["train", "ring8", "--set", "optim.glr=1"], "unknown key optim.glr"),
    (["train", "ring8", "--set", "train.steps=many"], "must be int"),
    (["train", "ring8", "--set", "train.eval_every=100", "--set", 'train.eval_metrics=["mdd"]'],
     "train.eval_metrics: 'mdd' cannot be computed on ring8"),
    (["sample", "missing.safetensors"], "checkpoint not found"),
    (["train", "ring8", "--seed", "-1"], "argument --seed: must be at least 0, got -1"),
    (["train", "ring8", "--set", "optim.ema=1.0"], "optim.ema must be in [0, 1), got 1.0"),
    (["train", "ring8", "--set", "game.name=cgan"], "game 'cgan' needs labelled data, but ring8 has no labels"),
    (["sample", "missing.safetensors", "-n", "0"], "argument -n: must be at least 1, got 0"),
])
def test_cli_errors_are_one_line_with_status_2(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "runs").exists()


def test_cli_rejects_a_corrupt_checkpoint(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    assert cli.main(["sample", str(bad), "-o", str(tmp_path / "x.png")]) == 2
    assert "bad.safetensors is truncated or not a safetensors file" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / CHECKPOINT).write_bytes(b"not a checkpoint either")
    assert cli.main(["train", "--resume", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "is truncated or not a safetensors file" in err and err.count("\n") == 1
    assert (tmp_path / "run" / CHECKPOINT).read_bytes() == b"not a checkpoint either"


def test_cli_samples_a_conditional_family_by_label(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "cgan-digits", "--steps", "2", "--out", str(out), "--quiet",
                     *sum([["--set", s] for s in TINY], [])]) == 0
    ckpt = str(out / CHECKPOINT)
    assert cli.main(["sample", ckpt, "-n", "6", "--label", "7", "-o", str(tmp_path / "sevens.npy")]) == 0
    sevens = np.load(tmp_path / "sevens.npy")
    assert sevens.shape == (6, 1, 8, 8)
    from minigan.runner import load_game

    game, _ = load_game(out / CHECKPOINT)
    np.testing.assert_array_equal(sevens, game.sample(6, mg.Generator(0), labels=7))
    assert cli.main(["interpolate", ckpt, "--label", "3", "--rows", "2", "--steps", "3",
                     "-o", str(tmp_path / "walk.png")]) == 0
    capsys.readouterr()
    assert cli.main(["sample", ckpt, "--label", "10", "-o", str(tmp_path / "x.png")]) == 2
    assert "--label must be in 0..9" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_cli_refuses_a_label_for_an_unconditional_family(tmp_path, capsys):
    out = tmp_path / "run"
    run_training(tiny("ring8", 1), out, progress=False)
    assert cli.main(["sample", str(out / CHECKPOINT), "--label", "1", "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert "draws no labels" in err and err.count("\n") == 1


def test_infogan_labels_are_its_categories_however_many_there_are(tmp_path, capsys):
    out = tmp_path / "run"
    run_training(tiny("infogan-digits", 1, ["game.categories=4", "train.eval_every=1", "train.eval_samples=40"]), out,
                 progress=False)
    assert [r["step"] for r in _records(out / "evaluations.jsonl")] == [1]  # code NMI over 4 categories
    assert cli.main(["sample", str(out / CHECKPOINT), "-n", "3", "--label", "3", "-o", str(tmp_path / "a.npy")]) == 0
    assert cli.main(["sample", str(out / CHECKPOINT), "--label", "4", "-o", str(tmp_path / "b.npy")]) == 2
    assert "--label must be in 0..3" in capsys.readouterr().err
    continuous_only = tmp_path / "continuous"
    run_training(tiny("infogan-digits", 1, ["game.categories=0"]), continuous_only, progress=False)
    assert cli.main(["sample", str(continuous_only / CHECKPOINT), "--label", "0", "-o", str(tmp_path / "c.npy")]) == 2
    assert "draws no labels" in capsys.readouterr().err


def test_a_checkpoint_that_does_not_fit_its_configuration_is_one_line_and_touches_nothing(tmp_path, capsys):
    run = tmp_path / "run"
    run_training(tiny("cgan-digits", 2), run, progress=False)
    state = load_checkpoint(run / CHECKPOINT)
    state["config"]["model"]["g_width"] = 8  # the weights were trained at width 4
    mg.save(state, run / CHECKPOINT)
    saved = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    assert cli.main(["sample", str(run / CHECKPOINT), "-o", str(tmp_path / "x.png")]) == 2
    assert cli.main(["eval", str(run / CHECKPOINT), "--n", "20"]) == 2
    for line in capsys.readouterr().err.splitlines():
        assert "does not fit the game its configuration builds" in line, line
    (run / "config.json").unlink()  # else resuming is refused sooner: the checkpoint no longer matches it
    saved = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    assert cli.main(["train", "--resume", "--out", str(run), "--steps", "4"]) == 2
    assert "does not fit the game its configuration builds" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == saved
    assert not (tmp_path / "x.png").exists()


def test_slerp_keeps_the_endpoints_and_the_norm_of_orthogonal_unit_vectors():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    path = viz.slerp(a, b, np.linspace(0, 1, 5))
    np.testing.assert_allclose(path[0], a, atol=1e-12)
    np.testing.assert_allclose(path[-1], b, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 1.0)


def test_a_recipe_file_trains_into_a_folder_named_after_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.toml").write_text('description = "a recipe of my own"\n'
                                        '[data]\nname = "ring8"\nbatch_size = 8\n'
                                        '[model]\nname = "mlp"\ng_hidden = [8]\nd_hidden = [8]\n'
                                        '[train]\nsteps = 2\n')
    assert cli.main(["train", "mine.toml", "--quiet"]) == 0
    config = json.loads((tmp_path / "runs" / "mine" / "config.json").read_text())
    assert config["recipe"] == "mine" and config["data"]["name"] == "ring8" and config["model"]["g_hidden"] == [8]
    assert load_checkpoint(tmp_path / "runs" / "mine" / CHECKPOINT)["step"] == 2
