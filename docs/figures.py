"""Regenerate every figure of the documentation.

    python docs/figures.py                 # the examples' figures (a few minutes)
    python docs/figures.py --recipes       # and the recipes' pictures (hours: one training run each)
    python docs/figures.py --recipes ring8 dcgan-digits   # only these recipes
    python docs/figures.py --sweeps        # and the sweeps' figures (minutes to hours each)

Each example writes its figures into ``docs/images/examples``; each recipe is
trained with its own settings by ``minigan train`` and its picture copied
into ``docs/images``; each sweep is run by ``minigan sweep`` and its figure
copied into ``docs/images/sweeps``. Nothing in the documentation is drawn by hand.
"""

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
IMAGES = ROOT / "docs" / "images"

# docs picture -> (recipe, the file of its run folder)
RECIPE_PICTURES = {
    "digits.png": ("dcgan-digits", "samples.png"),
    "ring8.png": ("ring8", "samples.png"),
    **{f"{recipe}.png": (recipe, "samples.png") for recipe in (
        "cgan-digits", "acgan-digits", "infogan-digits", "bigan-digits", "catgan-digits", "ebgan-digits",
        "began-digits", "stylegan-digits", "vaegan-digits", "dcgan-photos", "sagan-photos", "pix2pix-colour",
        "srgan-photos", "cyclegan-photos")},
    "sagan-photos-attention.png": ("sagan-photos", "attention.png"),
}

# docs/images/sweeps picture -> (sweep, the file of its sweep folder)
SWEEP_PICTURES = {"losses-ring8.png": ("losses-ring8", "metric_vs_loss.name.png"),
                  "losses-grid25.png": ("losses-grid25", "metric_vs_loss.name.png"),
                  "losses-digits.png": ("losses-digits", "metric_vs_recipe.png")}


def run(command: list[str]) -> float:
    print("+", " ".join(command), flush=True)
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True)
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="*", metavar="RECIPE",
                        help="also train the recipes behind the docs' pictures (all of them when none is named)")
    parser.add_argument("--sweeps", nargs="*", metavar="SWEEP",
                        help="also run the sweeps behind the docs' sweep figures (all of them when none is named)")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs", help="where the recipes' runs go (default runs/)")
    args = parser.parse_args(argv)

    for script in sorted(EXAMPLES.glob("*.py")):
        seconds = run([sys.executable, str(script)])
        print(f"{script.name}: {seconds:.0f} s", flush=True)

    if args.sweeps is not None:
        for picture, (sweep, source) in SWEEP_PICTURES.items():
            if not args.sweeps or sweep in args.sweeps:
                run(["minigan", "sweep", sweep, "--out", str(ROOT / "sweeps" / sweep)])
                shutil.copyfile(ROOT / "sweeps" / sweep / source, IMAGES / "sweeps" / picture)
    if args.recipes is None:
        return
    wanted = set(args.recipes) or {recipe for recipe, _ in RECIPE_PICTURES.values()}
    unknown = wanted - {recipe for recipe, _ in RECIPE_PICTURES.values()}
    if unknown:
        parser.error(f"no docs picture comes from {', '.join(sorted(unknown))}")
    for recipe in sorted(wanted):
        run(["minigan", "train", recipe, "--out", str(args.runs / recipe)])
    for picture, (recipe, source) in RECIPE_PICTURES.items():
        if recipe in wanted:
            shutil.copyfile(args.runs / recipe / source, IMAGES / picture)


if __name__ == "__main__":
    main()
