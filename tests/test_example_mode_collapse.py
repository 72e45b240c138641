from pathlib import Path

PNG = b"\x89PNG\r\n\x1a\n"


def test_mode_collapse(example):
    result = example("mode_collapse")

    # Helvetica: some frozen D draws every sample of G, trained alone against it, to within 0.5 of its argmax
    collapses = [s for s in result["helvetica"].values()
                 if s["after"]["spread"] < 0.2 * s["before"]["spread"] and s["after"]["near_argmax"] > 0.9]
    assert collapses, result["helvetica"]
    for s in collapses:
        assert s["before"]["near_argmax"] < 0.5        # ... where G's samples were not before
        assert s["after"]["modes_covered"] <= 1

    # every run reports its mode coverage over training
    assert set(result["coverage"]) == {"non-saturating", "LSGAN", "hinge", "NS + 2 D-steps", "NS + PacGAN (pack=2)"}
    for run in result["coverage"].values():
        steps = [row[0] for row in run["curve"]]
        assert steps == sorted(steps) and steps[-1] == result["steps"]
        assert 0 <= run["modes_covered"] <= 8 and 0 <= run["high_quality_fraction"] <= 1
        assert all(0 <= modes <= 8 and 0 <= quality <= 1 for _, modes, quality in run["curve"])
    for path in result["figures"].values():
        assert Path(path).read_bytes()[:8] == PNG
