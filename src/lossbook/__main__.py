"""Command line: ``python -m lossbook run [CHAPTER ...] [--profile full|quick]``,
``python -m lossbook study DATA --label COLUMN ...`` and ``python -m lossbook compare A.csv B.csv``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lossbook.publish import cli
from lossbook.publish.runner import PROFILES, run


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
    run_parser.add_argument("-p", "--parameter", action="append", default=[], metavar="NAME=VALUE",
                            help="override a chapter parameter (VALUE is read as YAML: 3, 0.5, null, [1, 2])")
    cli.add_commands(commands)  # study, compare
    args = parser.parse_args(argv)
    if args.command != "run":
        return args.handler(args)
    try:
        overrides = dict(_parse_override(item) for item in args.parameter)
    except ValueError as error:
        parser.error(str(error))
    return run(args.chapters, args.profile, args.output_dir, overrides)


def _parse_override(item: str) -> tuple[str, object]:
    import yaml

    name, sep, value = item.partition("=")
    if not sep or not name.isidentifier():
        raise ValueError(f"--parameter expects NAME=VALUE, got {item!r}")
    return name, yaml.safe_load(value)


if __name__ == "__main__":
    sys.exit(main())
