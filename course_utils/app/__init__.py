"""The presentation app's room: the live-demo page for a lecture, for instructors in front of a class.

    page      `App`: the panel's controls laid out for a room, a quick look, a loss curve, Save
    server    serving the page's notebook (present.ipynb, with its Voilà template) with Voilà

Started by ``python -m course_utils present``.
"""
