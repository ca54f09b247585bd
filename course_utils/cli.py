"""Command line: ``python -m course_utils stylize [CONTENT] [STYLE] [-o OUT] ...``.

A user's mistake (a missing file, a bad value) gives one line on stderr and
exit code 2; Ctrl-C saves the best image so far and exits with 130.
"""
import argparse
import os
import sys
import tempfile
from pathlib import Path

EXIT_USAGE, EXIT_INTERRUPTED = 2, 130


def parse_weights(text):
    try:
        return tuple(float(w) for w in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m course_utils",
                                     description="Neural style transfer (Gatys et al., 2015).")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("stylize", help="paint a content image in the style of another")
    p.add_argument("content", nargs="?", default="tubingen", help="asset name or path (tubingen)")
    p.add_argument("style", nargs="?", default="starry_night", help="asset name or path (starry_night)")
    p.add_argument("-o", "--output", default=None, help="output PNG (default: stylized.png)")
    p.add_argument("--preset", choices=None, default=None,
                   help="ci, demo, quality or seed (default: $COURSE_PRESET, else by device)")
    p.add_argument("--size", type=int, help="longest side in pixels")
    p.add_argument("--steps", type=int, help="optimiser steps")
    p.add_argument("--optimizer", choices=["lbfgs", "adam"])
    p.add_argument("--alpha", type=float, help="content weight α")
    p.add_argument("--beta", type=float, help="style weight β")
    p.add_argument("--tv", type=float, dest="tv_weight", help="total-variation weight")
    p.add_argument("--style-weights", type=parse_weights, help="w_l per style layer, e.g. 1,1,1,1,1")
    p.add_argument("--style-layers", type=lambda t: tuple(t.split(",")), help="e.g. conv1_1,conv2_1")
    p.add_argument("--content-layers", type=lambda t: tuple(t.split(",")), help="e.g. conv4_2")
    p.add_argument("--init", choices=["content", "noise", "style", "mix"])
    p.add_argument("--pooling", choices=["avg", "max"])
    p.add_argument("--seed", type=int)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    sub.add_parser("fetch", help="download every asset into the cache and check its hash")
    return parser




def fail(message):
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def check_writable(path):
    """Refuse an output we could not write, before any computation starts."""
    path = Path(path)
    if path.exists() and path.is_dir():
        raise ValueError(f"output {path} is a directory; give a file name such as {path}/out.png")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".write-test-"):
            pass
    except OSError as err:
        raise ValueError(f"cannot write to {path.parent}: {err.strerror or err}; choose another -o path")


def stylize_command(args):
    from . import images, plots, train
    settings = {k: v for k, v in vars(args).items()
                if v is not None and k not in ("command", "content", "style", "output", "preset", "quiet")}
    out = Path(args.output or "stylized.png")
    if out.suffix.lower() != ".png":
        raise ValueError(f"output {out} must end in .png")
    check_writable(out)
    s = train.make_settings(args.preset, **settings)
    result = train.stylize(args.content, args.style, preset=args.preset, progress=not args.quiet,
                           **settings)
    images.save_png(result.best_image, out)
    curves = out.with_name(out.stem + "_losses.png")
    _save_figure(plots.loss_curves(result), curves)
    h = result.history
    per_step = h[-1]["seconds"] / len(h) if h else float("nan")
    height, width = result.image.shape[:2]
    print(f"device {result.device}, size {width}x{height}, {len(h)} steps ({s.optimizer}), "
          f"{per_step:.3f} s/step, {result.seconds:.1f} s in all")
    if h:
        print(f"final loss {h[-1]['total']:.4g} = α·content {s.alpha * h[-1]['content']:.4g}"
              f" + β·style {s.beta * h[-1]['style']:.4g}")
    for note in filter(None, [result.stopped_reason] + result.notes):
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {out} and {curves}")
    return EXIT_INTERRUPTED if result.interrupted else 0


def _save_figure(fig, path):
    import matplotlib.pyplot as plt
    tmp = path.with_name(f".{path.name}.part")
    fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)


def main(argv=None):
    args = build_parser().parse_args(argv)
    from .assets import AssetError
    try:
        if args.command == "fetch":
            from . import assets
            for name, path in assets.fetch_all(quiet=False).items():
                print(f"{name:16s} {path}")
            return 0
        return stylize_command(args)
    except (ValueError, OSError, AssetError) as err:
        return fail(str(err).splitlines()[0] if str(err) else type(err).__name__)
    except KeyboardInterrupt:
        return fail("interrupted") and EXIT_INTERRUPTED
