"""The exercise machinery: what a check cell runs, and what grading reads.

    cases    the exercises' names, `Case`, and the stored tables' JSON format
    table    where an exercise's cases and expected values come from (the answer key in
             the full course, answers.json in a student release)
    judge    judging a function on those cases: a `Verdict` (pass, fail, not_implemented,
             with the hint), `check` for the notebooks' check cells, and its two halves for
             grading: `outputs` (the function on the inputs) and `compare` (with the answers)
    loop     the exercise on the loop: runs a student's optimisation step on a case's data
    yours    the student's functions, saved by their passing checks (the release's losses)

Notebooks use `course_utils.checks` and `course_utils.control_checks`, which call `judge`.
A student release ships this sub-package whole; the answer key lives in `classroom`.
"""
