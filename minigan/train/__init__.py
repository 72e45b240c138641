"""The adversarial training loop, checkpoints, recipes and logging."""
