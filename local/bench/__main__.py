"""python -m local.bench [--quick] [--only PHASES] [--generator wrk|builtin]"""

from __future__ import annotations

import argparse
import sys

from local.bench.load import wrk_path
from local.bench.plan import FULL, QUICK
from local.bench.run import PHASES, run


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local.bench", description="Every figure of the README's Performance table beside its floor, in one run."
    )
    parser.add_argument("--quick", action="store_true", help=f"smaller and shorter, under 2 minutes ({QUICK.describe()})")
    parser.add_argument("--only", default=",".join(PHASES), help=f"comma-separated phases to run, in order ({', '.join(PHASES)})")
    parser.add_argument("--generator", choices=("wrk", "builtin"), default=None, help="the load generator (default: wrk when installed)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    phases = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = [p for p in phases if p not in PHASES]
    if unknown:
        print(f"error: unknown phase {', '.join(unknown)}; choose from {', '.join(PHASES)}", file=sys.stderr)
        return 2
    if "drain" in phases and "writes" not in phases:
        print("error: the drain drains what the writes phase appended; add writes to --only", file=sys.stderr)
        return 2
    generator = args.generator or ("wrk" if wrk_path() else "builtin")
    if generator == "wrk" and not wrk_path():
        print("error: wrk is not installed: apt-get install wrk (Debian/Ubuntu), brew install wrk (macOS)", file=sys.stderr)
        return 2
    return run(QUICK if args.quick else FULL, generator, [p for p in PHASES if p in phases])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
