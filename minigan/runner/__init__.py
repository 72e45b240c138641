"""Runs on disk: train a recipe into a run folder, bring a checkpoint back as a game, evaluate it, tabulate runs.

This package sits above training, metrics and figures and uses all three.
"""

from minigan.runner.attention import has_attention, save_attention
from minigan.runner.checkpoints import evaluate_checkpoint, evaluate_game, load_game, photo_scores
from minigan.runner.folder import RunExists, RunFolderError, RunLocked
from minigan.runner.training import QUICK_METRICS, evaluation_metrics, finish_pictures, run_training

__all__ = ["run_training", "RunFolderError", "RunExists", "RunLocked", "QUICK_METRICS", "evaluation_metrics",
           "finish_pictures", "load_game", "evaluate_game", "evaluate_checkpoint", "has_attention", "save_attention",
           "photo_scores"]
