"""Immediate checks for the exercises of notebooks 6 and 7: the luminance recombination and
the guided Gram matrix, in the style of `checks` (the same judge, the same kind of hints).

    check_guided_gram_matrix(guided_gram_matrix)
    check_with_chroma(with_chroma)

Their references and known mistakes are in the answer key (`classroom.answers`); a student
release stores their tables (answers.json) as it does for `checks`.
"""
from .exercises.judge import check


def check_guided_gram_matrix(fn, hidden=False):
    """Check fn(F, m) against G[m] = (F ∘ m)(F ∘ m)ᵀ / mean(m²), an N × N matrix."""
    check(fn, "guided_gram_matrix", hidden)


def check_with_chroma(fn, hidden=False):
    """Check fn(Y, photo): the RGB picture whose luminance is Y and whose chroma is the photo's."""
    check(fn, "with_chroma", hidden)
