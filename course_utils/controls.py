"""The controls of a run: one description of every `Settings` field, from which the settings'
choices, the command line, the panel and the app are made.

A `Control` says what the field is (a number in a range, a choice among values, a list), how
the panel labels it, and the command line's help.  `where` says where it appears: "cli",
"panel" (the panel and the app show the same controls) — and `why` says why a field is
missing from one of them.  Adding a setting means adding a `Settings` field and its Control
here; tests/method/test_controls_everywhere.py fails until both exist.

Light: no TensorFlow, so the command line can read it before TensorFlow loads.
"""
from dataclasses import dataclass

from .colour import COLOURS, TRANSFERS
from .precision import PRECISIONS

EVERYWHERE = frozenset({"cli", "panel"})
CLI_ONLY = frozenset({"cli"})
CODE_ONLY = frozenset()


@dataclass(frozen=True)
class Control:
    """One setting: its `Settings` field, its kind and range or choices, label and help."""
    name: str
    kind: str                    # "float", "int", "choice", "layers", "numbers", "sizes"
    label: str                   # the panel's and the app's description
    help: str                    # the command line's help
    choices: tuple = ()          # "choice": ((value, what the panel shows), ...)
    low: float = None            # numbers: the panel's range (log2/log10 exponents if `log`)
    high: float = None
    step: float = None
    log: int = None              # the slider's base when it is logarithmic
    flag: str = None             # the command-line flag, if not --name-with-dashes
    where: frozenset = EVERYWHERE
    why: str = ""                # why it is not everywhere

    @property
    def values(self):
        """The allowed values of a choice (what `settings.validate` accepts)."""
        return tuple(value for value, _ in self.choices)

    @property
    def option(self):
        return self.flag or "--" + self.name.replace("_", "-")


# "lbfgs": L-BFGS inside TensorFlow (`lbfgs`); "lbfgs-scipy": SciPy's L-BFGS-B; "adam": Keras's Adam
OPTIMIZERS = (("lbfgs", "L-BFGS"), ("lbfgs-scipy", "L-BFGS-B (SciPy)"), ("adam", "Adam"))
INITS = (("content", "the photograph"), ("colour", "the photograph, recoloured"),
         ("noise", "white noise"), ("style", "the painting"), ("mix", "60 % noise + 40 % photograph"))
POOLINGS = (("avg", "average"), ("max", "max"))
COLOUR_LABELS = {"style": "the painting's", "luminance": "the photo's: luminance only",
                 "match": "the photo's: painting recoloured"}
TRANSFER_LABELS = {"pca": "PCA", "chol": "Cholesky", "sym": "symmetric"}
LISTS = "a list: the command line and code take it; the panel shows its own widgets for it"

CONTROLS = (
    # The paper's method.  α and β: the panel and app show one α/β slider (β = 1).
    Control("alpha", "float", "α/β", "content weight α"),
    Control("beta", "float", "α/β", "style weight β"),
    Control("content_layers", "layers", "content layer", "e.g. conv4_2"),
    Control("style_layers", "layers", "style layers", "e.g. conv1_1,conv2_1"),
    Control("style_weights", "numbers", "w_l", "w_l per style layer, e.g. 1,1,1,1,1"),
    Control("optimizer", "choice", "optimiser",
            "lbfgs (default: L-BFGS in TensorFlow), lbfgs-scipy (SciPy's L-BFGS-B) or adam", OPTIMIZERS),
    Control("learning_rate", "float", "Adam lr", "Adam's learning rate, in pixel units (0..255)",
            low=-1, high=2, step=0.1, log=10),
    Control("init", "choice", "start from", "the picture the optimisation starts from", INITS),
    Control("steps", "int", "steps", "optimiser steps", low=1, high=1000, step=1),
    Control("size", "int", "size (px)", "longest side in pixels", low=16, high=1024, step=16),
    Control("every", "int", "preview every", "", low=1, high=50, step=1,
            where=frozenset({"panel"}),
            why="how often a preview is drawn; the command line draws a progress bar every step"),
    Control("precision", "choice", "precision",
            "of the convolutions (default auto: bfloat16/float16 where the hardware computes it "
            "natively, else float32); losses are float32 either way",
            tuple((p, p) for p in PRECISIONS)),
    # Beyond the paper (notebooks 6 and 7).
    Control("colour", "choice", "colours",
            "keep the photo's colours: luminance-only transfer, or match the style's colours first",
            tuple((c, COLOUR_LABELS[c]) for c in COLOURS)),
    Control("colour_transfer", "choice", "colour match",
            "--colour match: how to map the colour covariance (default pca)",
            tuple((t, TRANSFER_LABELS[t]) for t in TRANSFERS)),
    Control("style_scale", "float", "style scale", "the style image at this times --size (1)",
            low=-2, high=2, step=0.25, log=2),
    # Less often changed in a demo.
    Control("tv_weight", "float", "TV weight", "total-variation weight", low=0.0, high=1e6,
            flag="--tv"),
    Control("pooling", "choice", "pooling", "VGG-19's pooling (the paper: average)", POOLINGS),
    Control("seed", "int", "seed", "random seed (the noise start)", low=0, high=2**31 - 1),
    Control("blend", "numbers", "blend", "weights of several styles, summing to 1, e.g. 0.7,0.3",
            where=CLI_ONLY, why=LISTS),
    Control("stages", "sizes", "stages", "sizes to run first, e.g. 256,512",
            where=CLI_ONLY, why=LISTS),
    # Code only.
    Control("deterministic", "bool", "deterministic", "", where=CODE_ONLY,
            why="runs are always deterministic in the course; only code may trade that for speed"),
    Control("lbfgs_memory", "int", "L-BFGS memory", "", where=CODE_ONLY,
            why="the optimiser's internal constant (the presets set it)"),
    Control("adam_beta_1", "float", "Adam β₁", "", where=CODE_ONLY,
            why="the optimiser's internal constant"),
    Control("adam_epsilon", "float", "Adam ε", "", where=CODE_ONLY,
            why="the optimiser's internal constant"),
)

BY_NAME = {c.name: c for c in CONTROLS}


def values(name):
    """The allowed values of a choice setting, e.g. values("init")."""
    return BY_NAME[name].values


def shown(where):
    """The controls shown in "cli" or "panel", in order."""
    return [c for c in CONTROLS if where in c.where]
