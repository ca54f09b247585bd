"""The developers' room: tools for whoever carries the course on, not for its readers.

    bench            how fast the course paints on this machine (make bench)
    notebook_cells   the badges and install cell that open every notebook (make notebook-cells)
"""
