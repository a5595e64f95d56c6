"""Run every benchmark in bench/ (files named bench_*.py, each with a `main()`).

Each benchmark prints its figure beside the floor it measured in the same run, as a ratio
(README in this folder). Run by `make bench`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    sys.path.insert(0, str(HERE.parent))
    sys.path.insert(0, str(HERE))
    wanted = set(sys.argv[1:])
    benches = [p for p in sorted(HERE.glob("bench_*.py")) if not wanted or p.stem in wanted]
    if not benches:
        print("No benchmarks yet: the first ones arrive with the import pipeline.")
        return 0
    for path in benches:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(f"== {path.stem} ==", flush=True)
        module.main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
