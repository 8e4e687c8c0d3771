"""python -m local.bench [--quick] [--only PHASES] [--generator wrk|builtin] [--database-url URL]"""

from __future__ import annotations

import argparse
import sys

from local.bench.load import wrk_path
from local.bench.plan import FULL, QUICK
from local.bench.run import PHASES, READ_ONLY_PHASES, run


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local.bench", description="Every figure of the README's Performance table beside its floor, in one run."
    )
    parser.add_argument("--quick", action="store_true", help=f"smaller and shorter, under 2 minutes ({QUICK.describe()})")
    default = ",".join(p for p in PHASES if p not in READ_ONLY_PHASES)  # the reads phase loads its own events, then measures the analytics
    parser.add_argument("--only", default=default, help=f"comma-separated phases to run, in order ({', '.join(PHASES)}; default {default})")
    parser.add_argument("--generator", choices=("wrk", "builtin"), default=None, help="the load generator (default: wrk when installed)")
    parser.add_argument(
        "--database-url",
        default=None,
        help=f"measure a database you filled, as it is (only the read-only phases: {', '.join(READ_ONLY_PHASES)}); the bench adds its keys",
    )
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
    if args.database_url and [p for p in phases if p not in READ_ONLY_PHASES]:
        print(f"error: --database-url is measured as it is, so only {', '.join(READ_ONLY_PHASES)} may run on it (--only)", file=sys.stderr)
        return 2
    if "analytics" in phases and not args.database_url:
        print("error: the analytics phase reads a database you filled: give it with --database-url", file=sys.stderr)
        return 2
    generator = args.generator or ("wrk" if wrk_path() else "builtin")
    if generator == "wrk" and not wrk_path():
        print("error: wrk is not installed: apt-get install wrk (Debian/Ubuntu), brew install wrk (macOS)", file=sys.stderr)
        return 2
    return run(QUICK if args.quick else FULL, generator, [p for p in PHASES if p in phases], args.database_url)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
