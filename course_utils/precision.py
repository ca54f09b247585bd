"""Precision: which float type the convolutions run in, and how that is decided.

The convolutions of VGG-19 are nearly all of an evaluation's work.  Hardware that multiplies
16-bit numbers natively does them twice as fast: CPUs with AVX512_BF16 or AMX (bfloat16),
NVIDIA GPUs with Tensor Cores (float16 from compute capability 7.0, bfloat16 from 8.0).
Everything after the features (Gram matrices, losses, the gradient the optimiser sees) stays
in float32, as in Keras's mixed precision ("mixed_float16", "mixed_bfloat16": compute in
16 bits, variables in float32).

`choose(requested, cpu_flags, gpu_capability)` is the decision, a pure function (tests
simulate machines with it); `resolve(requested)` asks this machine.
"""
import platform
from functools import lru_cache
from typing import NamedTuple

PRECISIONS = ("auto", "float32", "bfloat16", "float16")
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")       # /proc/cpuinfo names of native bfloat16
KERAS_POLICY = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}


class Choice(NamedTuple):
    """The precision of the convolutions, Keras's name for the policy, and why."""
    precision: str
    policy: str
    why: str


def choose(requested="auto", cpu_flags=(), gpu_capability=None):
    """The precision for a run: `requested`, or for "auto" the fastest this hardware computes natively.

    cpu_flags: the CPU's feature flags (Linux's /proc/cpuinfo names);
    gpu_capability: (major, minor) CUDA compute capability of the GPU used, None without one.
    On a GPU, "auto" follows Keras's mixed-precision guide: float16 on Tensor Cores
    (compute capability ≥ 7.0), bfloat16 where Tensor Cores also do it (≥ 8.0: the same
    speed, and float32's exponent range, so no loss scaling); older GPUs float32.
    On a CPU: bfloat16 with AVX512_BF16 or AMX, else float32 (emulated 16-bit is slower).
    """
    if requested not in PRECISIONS:
        raise ValueError(f"precision must be {', '.join(map(repr, PRECISIONS[:-1]))} or "
                         f"{PRECISIONS[-1]!r}, not {requested!r}")
    if requested != "auto":
        return _choice(requested, "asked for")
    if gpu_capability is not None:
        cc = tuple(gpu_capability)
        if cc >= (8, 0):
            return _choice("bfloat16", f"GPU of compute capability {cc[0]}.{cc[1]} (≥ 8.0)")
        if cc >= (7, 0):
            return _choice("float16", f"GPU of compute capability {cc[0]}.{cc[1]} (≥ 7.0)")
        return _choice("float32", f"GPU of compute capability {cc[0]}.{cc[1]}: no Tensor Cores")
    native = [flag for flag in BF16_CPU_FLAGS if flag in set(cpu_flags)]
    if native:
        return _choice("bfloat16", f"CPU with {', '.join(native)}")
    return _choice("float32", "CPU without native bfloat16")


def _choice(precision, why):
    return Choice(precision, KERAS_POLICY[precision], why)


@lru_cache(maxsize=1)
def cpu_flags():
    """This CPU's feature flags: Linux's /proc/cpuinfo; elsewhere none are read (so float32)."""
    if platform.system() != "Linux":
        return frozenset()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


@lru_cache(maxsize=1)
def gpu_capability():
    """(major, minor) compute capability of TensorFlow's first GPU, None without one."""
    import tensorflow as tf
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    details = tf.config.experimental.get_device_details(gpus[0])
    return details.get("compute_capability") or (0, 0)


def resolve(requested="auto"):
    """`choose` for this machine."""
    if requested != "auto":
        return choose(requested)
    return choose("auto", cpu_flags(), gpu_capability())
