"""The performance benchmarks (not collected by pytest), the same as ``adoptsim bench``::

    python tests/benchmarks/run.py                      # 2,000-100,000 enterprises, 3 runs each
    python tests/benchmarks/run.py --sizes 2000,10000 --repeats 5 --out bench.json
    python tests/benchmarks/run.py --markdown           # the table for the README

Prints the table and writes it as JSON (default ``outputs/bench/bench-<timestamp>.json``); see
:mod:`sim.bench` for what is measured and how.
"""

import sys

from sim.bench import main

if __name__ == "__main__":
    sys.exit(main())
