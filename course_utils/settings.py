"""The settings of one run: every choice the paper's method leaves open, checked once.

`Settings` holds them (defaults: the paper's Figure 2); `validate` turns a setting that cannot
make a picture into one clear ValueError.  Named starting points are in `presets`.
"""
import math
import numbers
import re
from dataclasses import dataclass

from . import controls, images, vgg

PAPER_STYLE_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
INITS = controls.values("init")
OPTIMIZERS = controls.values("optimizer")     # lbfgs (in TensorFlow), lbfgs-scipy, adam
CHOICES = [c for c in controls.CONTROLS if c.kind == "choice"]   # their values: from `controls`


@dataclass
class Settings:
    """Everything that defines one run.  Defaults are the paper's (Figure 2) except the start:
    `init="content"`, the photograph, where the paper starts from white noise (`init="noise"`);
    the `demo` and `quality` presets start from the photograph in the painting's colours."""
    content_layers: tuple = ("conv4_2",)
    style_layers: tuple = PAPER_STYLE_LAYERS
    style_weights: tuple = None           # w_l; None means 1/len(style_layers) each
    alpha: float = 1e-3                   # α/β = 10⁻³, as in the paper's Figure 2
    beta: float = 1.0
    tv_weight: float = 0.0
    optimizer: str = "lbfgs"              # one of OPTIMIZERS: "lbfgs" (in TensorFlow), "lbfgs-scipy", "adam"
    learning_rate: float = 10.0           # Adam only, in pixel units (0..255)
    init: str = "content"                 # "content", "colour" (content in the style's colours),
                                          # "noise", "style", "mix" (0.6 noise + 0.4 content)
    size: int = 256                       # longest side of the generated image, pixels
    steps: int = 100
    pooling: str = "avg"
    seed: int = 0
    deterministic: bool = True
    every: int = 10                       # call `callback` every this many steps
    lbfgs_memory: int = 20                # L-BFGS only (both): curvature pairs kept (SciPy's maxcor)
    adam_beta_1: float = 0.9              # Adam only: decay of the running mean of gradients
    adam_epsilon: float = 1e-7            # Adam only: added to √v, in gradient units of 0..255
    precision: str = "auto"               # of the convolutions: "auto" (bfloat16/float16 where the
                                          # hardware is fast at it), "float32", "bfloat16", "float16"
    # Beyond the paper (notebooks 6 and 7; Gatys et al. 2017, jcjohnson/neural-style):
    colour: str = "style"                 # "style", "luminance" (keep the photo's chroma) or
                                          # "match" (the painting recoloured to the photo's first)
    colour_transfer: str = "pca"          # colour="match": "pca", "chol" or "sym" (colour.match)
    style_scale: float = 1.0              # the style image at style_scale x size: stroke size
    blend: tuple = None                   # several styles: weights summing to 1; None: equal
    stages: tuple = ()                    # sizes to run first, e.g. (256, 512) before 1024

    def __post_init__(self):
        self.content_layers = _names(self.content_layers)
        self.style_layers = _names(self.style_layers)
        if self.style_weights is None:
            self.style_weights = tuple(1.0 / len(self.style_layers) for _ in self.style_layers) \
                if self.style_layers else ()
        self.style_weights = _numbers("style_weights", self.style_weights)
        if self.blend is not None:
            self.blend = _numbers("blend", self.blend, "one per style")
        self.stages = (self.stages,) if _whole(self.stages) else tuple(self.stages or ())
        validate(self)


def _names(layers):
    """Layer names as a tuple; a string may list them with commas ("conv1_1,conv2_1")."""
    if layers is None:
        return ()
    if isinstance(layers, str):
        return tuple(name.strip() for name in layers.split(",") if name.strip())
    return tuple(layers)


def _numbers(name, values, each="one per style layer"):
    """A tuple of floats, or one clear ValueError."""
    values = (values,) if isinstance(values, numbers.Number) else values
    try:
        return tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers, {each}, not {values!r}") from None


def validate(s):
    """Raise one clear ValueError for settings that cannot make a picture."""
    for name, value in [("alpha", s.alpha), ("beta", s.beta), ("tv_weight", s.tv_weight)]:
        if not _real(value) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number ≥ 0, not {value!r}")
    if not _real(s.learning_rate) or not math.isfinite(s.learning_rate) or s.learning_rate <= 0:
        raise ValueError(f"learning_rate must be a finite number > 0, not {s.learning_rate!r}")
    for layer in s.content_layers + s.style_layers:
        if layer not in vgg.CONV_LAYERS:
            raise ValueError(f"unknown layer {layer!r}; {_nearest_layers(layer)}")
    if not s.style_layers and s.beta > 0:
        raise ValueError("style_layers is empty; name at least one, e.g. conv1_1 (or set beta=0)")
    if not s.content_layers and s.alpha > 0:
        raise ValueError("content_layers is empty; name at least one, e.g. conv4_2 (or set alpha=0)")
    if len(s.style_weights) != len(s.style_layers):
        raise ValueError(f"{len(s.style_weights)} style weights for {len(s.style_layers)} "
                         f"style layers; give one weight per layer")
    for layer, w in zip(s.style_layers, s.style_weights):
        if not math.isfinite(w) or w < 0:
            raise ValueError(f"the style weight of {layer} must be a finite number ≥ 0, not {w!r}")
    if s.alpha == 0 and s.beta == 0:
        raise ValueError("alpha and beta are both 0: there is nothing to optimise")
    if not _whole(s.steps) or s.steps <= 0:
        raise ValueError(f"steps must be a whole number > 0, not {s.steps!r}")
    if not _whole(s.every) or s.every <= 0:
        raise ValueError(f"every must be a whole number > 0, not {s.every!r}")
    used = s.content_layers + s.style_layers
    low, deepest = vgg.min_size(used), max(used, key=vgg.LAYERS.index)
    if not _whole(s.size) or s.size < low:
        raise ValueError(f"size must be a whole number of pixels ≥ {low}, not {s.size!r}: "
                         f"{vgg.poolings_before(deepest)} poolings halve the image before "
                         f"{deepest}, the deepest layer used")
    if s.size > images.MAX_SIDE:
        raise ValueError(f"size must be at most {images.MAX_SIDE} pixels, not {s.size!r}")
    for control in CHOICES:
        value, allowed = getattr(s, control.name), control.values
        if value not in allowed:
            raise ValueError(f"{control.name} must be {', '.join(map(repr, allowed[:-1]))} or "
                             f"{allowed[-1]!r}, not {value!r}")
    if not _whole(s.lbfgs_memory) or s.lbfgs_memory <= 0:
        raise ValueError(f"lbfgs_memory must be a whole number > 0, not {s.lbfgs_memory!r}")
    if not _real(s.adam_beta_1) or not 0 <= s.adam_beta_1 < 1:
        raise ValueError(f"adam_beta_1 must be a number from 0 to below 1, not {s.adam_beta_1!r}")
    if not _real(s.adam_epsilon) or not math.isfinite(s.adam_epsilon) or s.adam_epsilon <= 0:
        raise ValueError(f"adam_epsilon must be a finite number > 0, not {s.adam_epsilon!r}")
    _validate_controls(s, low)


def _validate_controls(s, low):
    """The settings beyond the paper: style_scale, blend, stages."""
    if not _real(s.style_scale) or not math.isfinite(s.style_scale) or s.style_scale <= 0:
        raise ValueError(f"style_scale must be a finite number > 0, not {s.style_scale!r}")
    if s.style_scale * s.size > images.MAX_SIDE:
        raise ValueError(f"style_scale {s.style_scale:g} at size {s.size} asks for a "
                         f"{s.style_scale * s.size:.0f} px style image (at most {images.MAX_SIDE})")
    if s.blend is not None:
        if any(not math.isfinite(b) or b < 0 for b in s.blend) or not s.blend:
            raise ValueError(f"blend weights must be numbers ≥ 0, not {s.blend!r}")
        if abs(sum(s.blend) - 1) > 1e-6:
            raise ValueError(f"blend weights must sum to 1, not {sum(s.blend):g} ({s.blend!r})")
    for stage in s.stages:
        if not _whole(stage) or not low <= stage < s.size:
            raise ValueError(f"stages must be whole numbers of pixels from {low} to below size "
                             f"({s.size}), not {stage!r}")
    if list(s.stages) != sorted(set(s.stages)):
        raise ValueError(f"stages must grow, smallest first, e.g. (256, 512), not {s.stages!r}")


def _real(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _whole(x):
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _nearest_layers(name):
    """'did you mean ...' for a mistyped layer name (or a Keras name such as block4_conv2)."""
    from difflib import get_close_matches
    keras = re.fullmatch(r"block(\d)_conv(\d)", str(name))
    if keras and f"conv{keras[1]}_{keras[2]}" in vgg.CONV_LAYERS:
        return f"did you mean conv{keras[1]}_{keras[2]} (the paper's name for Keras's {name})?"
    near = get_close_matches(str(name), vgg.CONV_LAYERS, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(near[:-1]) + ' or ' if near[1:] else ''}{near[-1]}? " if near else ""
    return f"{hint}VGG-19's layers are {vgg.CONV_LAYERS[0]} … {vgg.CONV_LAYERS[-1]}"
