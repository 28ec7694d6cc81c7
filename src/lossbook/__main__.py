"""Command line: ``python -m lossbook run [CHAPTER ...] [--profile full|quick]``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lossbook.runner import PROFILES, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lossbook", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="execute chapters into the book")
    run_parser.add_argument("chapters", nargs="*", help="chapter names (default: all, in book order)")
    run_parser.add_argument("--profile", default="full", choices=PROFILES,
                            help="full: the published book; quick: under a minute per chapter")
    run_parser.add_argument("--output-dir", type=Path, default=None,
                            help="where notebooks, results and figures go "
                                 "(default: book/ for full, _build/quick/ for quick)")
    args = parser.parse_args(argv)
    return run(args.chapters, args.profile, args.output_dir)


if __name__ == "__main__":
    sys.exit(main())
