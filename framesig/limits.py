"""Matching limits shared by the index, compare and anomaly modules and the CLI.

They live apart so that building the command line (``framesig --help``, ``framesig dr``)
imports no numba.
"""

MAX_HASH = 16  # same place, other flight: <= 13 bits on the test flight set; other places >= 25
MAX_HIST = 0.25  # chroma histogram total variation
MIN_DWELL = 1.0  # seconds: a run at least this long is a dwell (a hover, a long look)
