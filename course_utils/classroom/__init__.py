"""The instructors' room: what a teacher uses and a student never receives.

    cli       the five routes' command line (python -m course_utils.assignments ...)
    markers   solution markers: student notebooks from solution notebooks, and back
    handout   what an instructor hands out: a student release, an nbgrader course
    grading   grading a folder of submissions into a CSV and feedback files, out of the
              students' reach, several notebooks at once
    isolated  a student's exercise functions run in a fresh process of their own
    answers   the answer key: each exercise's cases, reference and known mistakes

A student release is the package without this sub-package (see `handout`).
"""
