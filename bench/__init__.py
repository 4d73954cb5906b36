"""Benchmarks (`make bench`, `make stress`): the real service and pipeline, measured side by side.

In-process parts score with numpy as the workers do, so they get the same single BLAS thread that
gunicorn.conf.py gives the workers; set here, before any part imports numpy.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
