"""Command line: ``python -m course_utils stylize [CONTENT] [STYLE] [-o OUT] ...``.

A user's mistake (a missing or broken picture, a bad value, an output that
cannot be written, an asset that cannot be had) gives one line on stderr and
exit code 2, before any computation where it can; out of memory even after the
retry at a smaller size gives one line and exit code 1; Ctrl-C saves the best
image so far and exits with 130.  Warnings and notes are one line each.
"""
import argparse
import sys
import tempfile
import warnings
from pathlib import Path

from . import controls      # light: the settings' names and choices, no TensorFlow

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (argparse's own is the usage, then the error)."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"error: {message} (see {self.prog} --help)\n")


def _items(text):
    """"a, b," -> ("a", "b"): a comma-separated list, blanks dropped."""
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _numbers(text, kind, what):
    try:
        return tuple(kind(item) for item in _items(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated {what}, got {text!r}")


def parse_weights(text):
    return _numbers(text, float, "numbers")


def parse_sizes(text):
    return _numbers(text, int, "whole numbers")


def parse_layers(text):
    """"conv1_1, conv2_1" -> ("conv1_1", "conv2_1"); "" -> () (then refused as empty)."""
    return _items(text)


def parse_paths(text):
    return _items(text)


def styles(text):
    """STYLE as stylize takes it: one picture, or several listed with commas (a,b)."""
    if "," not in text or Path(text).exists():
        return text
    return list(_items(text))


PARSING = {           # argparse's arguments for each kind of control
    "float": lambda c: dict(type=float), "int": lambda c: dict(type=int),
    "choice": lambda c: dict(choices=c.values), "layers": lambda c: dict(type=parse_layers),
    "numbers": lambda c: dict(type=parse_weights), "sizes": lambda c: dict(type=parse_sizes)}


def build_parser():
    parser = Parser(prog="python -m course_utils",
                    description="Neural style transfer (Gatys et al., 2015).")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("stylize", help="paint a content image in the style of another")
    p.add_argument("content", nargs="?", default="tubingen", help="asset name or path (tubingen)")
    p.add_argument("style", nargs="?", default="starry_night", help="asset name or path (starry_night)")
    p.add_argument("-o", "--output", default=None, help="output PNG (default: stylized.png)")
    p.add_argument("--preset", choices=None, default=None,
                   help="ci, demo, quality or seed (default: $COURSE_PRESET, else by device)")
    for control in controls.shown("cli"):                # every setting, from `controls`
        p.add_argument(control.option, dest=control.name, help=control.help,
                       **PARSING[control.kind](control))
    # Beyond the paper (notebook 7): STYLE may list several pictures, a,b (then --blend or --masks).
    p.add_argument("--masks", type=parse_paths, help="one mask picture per style (white: that style), a.png,b.png")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    sub.add_parser("fetch", help="download every asset into the cache and check its hash")
    a = sub.add_parser("present", help="the live-demo app in the browser (Voilà)")
    a.add_argument("--port", type=int, default=None, help="port (default: the first free from 8866)")
    a.add_argument("--no-browser", action="store_true", help="print the address, open no browser")
    a.add_argument("--save-dir", default="stylized", help="where Save writes (default: stylized/)")
    return parser


def fail(message, code=EXIT_USAGE):
    print(f"error: {message}", file=sys.stderr)
    return code


def check_writable(path):
    """Refuse an output we could not write, before any computation starts."""
    path = Path(path)
    if path.exists() and path.is_dir():
        raise ValueError(f"output {path} is a directory; give a file name such as {path}/out.png")
    if path.suffix.lower() != ".png":
        raise ValueError(f"output {path} must end in .png")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".write-test-"):
            pass
    except OSError as err:
        raise ValueError(f"cannot write to {path.parent}: {err.strerror or err}; choose another -o path")


def stylize_command(args, shown):
    from . import images
    settings = {k: v for k, v in vars(args).items()
                if v is not None and k not in ("command", "content", "style", "output", "preset", "quiet",
                                               "masks")}
    out = Path(args.output or "stylized.png")
    curves = out.with_name(out.stem + "_losses.png")
    check_writable(out)
    listed = styles(args.style)
    several = listed if isinstance(listed, list) else [listed]
    for role, src in [("content", args.content)] + [("style", p) for p in several]:
        if Path(src).is_file() and Path(src).resolve() in (out.resolve(), curves.resolve()):
            raise ValueError(f"the output would overwrite the {role} image {src}; choose another -o path")
    content = images.open_image(args.content)                          # before TensorFlow
    style = [images.open_image(p) for p in several]
    style = style if isinstance(listed, list) else style[0]
    masks = None if args.masks is None else [images.open_image(m) for m in args.masks]
    from . import plots, train
    from .presets import make_settings
    s = make_settings(args.preset, **settings)
    result = train.stylize(content, style, s, progress=not args.quiet, masks=masks)
    images.save_png(result.best_image, out)
    h = result.history
    per_step = h[-1]["seconds"] / len(h) if h else float("nan")
    height, width = result.image.shape[:2]
    print(f"device {result.device} ({result.precision}), size {width}x{height}, {len(h)} steps ({s.optimizer}), "
          f"{per_step:.3f} s/step, {result.seconds:.1f} s in all")
    if h:
        print(f"final loss {h[-1]['total']:.4g} = α·content {s.alpha * h[-1]['content']:.4g}"
              f" + β·style {s.beta * h[-1]['style']:.4g}")
    for note in filter(None, [result.stopped_reason] + result.notes):
        if note not in shown:                     # already said as a warning
            print(f"note: {note}", file=sys.stderr)
    try:
        _save_figure(plots.loss_curves(result), curves)
    except KeyboardInterrupt:
        print(f"wrote {out}; interrupted before the loss curves were written", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"wrote {out} and {curves}")
    return EXIT_INTERRUPTED if result.interrupted else 0


def _save_figure(fig, path):
    import matplotlib.pyplot as plt
    from .plots import write_figure
    try:
        write_figure(fig, path)
    finally:
        plt.close(fig)


def main(argv=None):
    args = build_parser().parse_args(argv)
    from .assets import AssetError
    shown = []

    def one_line(message, category, *rest, **kw):
        shown.append(str(message))
        print(f"warning: {_first_line(message)}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = one_line           # not Python's two-line file:line form
        try:
            if args.command == "fetch":
                from . import assets
                for name, path in assets.fetch_all(quiet=False).items():
                    print(f"{name:16s} {path}")
                return 0
            if args.command == "present":
                from .app import server        # the app's room, entered from its door
                return server.serve(args.port, not args.no_browser, args.save_dir)
            return stylize_command(args, shown)
        except (ValueError, OSError, AssetError) as err:
            return fail(_first_line(err))
        except MemoryError as err:
            return fail(_first_line(err), EXIT_FAILED)
        except KeyboardInterrupt:
            return fail("interrupted (Ctrl-C) before an image was ready; nothing written",
                        EXIT_INTERRUPTED)


def _first_line(err):
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
