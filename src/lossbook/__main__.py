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
                                 "(default: book/ for full, book/quick/ for quick)")
    run_parser.add_argument("-p", "--parameter", action="append", default=[], metavar="NAME=VALUE",
                            help="override a chapter parameter (VALUE is read as YAML, numbers as written: "
                                 "3, 0.5, 1e-4, null, [1, 2])")
    cli.add_commands(commands)  # study, compare
    args = parser.parse_args(argv)
    if args.command != "run":
        return args.handler(args)
    try:
        overrides = dict(parse_override(item) for item in args.parameter)
    except ValueError as error:
        parser.exit(2, f"python -m lossbook run: error: {error}\n")  # one line, no usage dump
    return run(args.chapters, args.profile, args.output_dir, overrides)


def parse_override(item: str) -> tuple[str, object]:
    """``"NAME=VALUE"`` -> ``(NAME, value)``; :class:`ValueError` with a one-line message when malformed.

    VALUE is YAML, except that a number reads as a user writes it: PyYAML
    follows YAML 1.1, where ``1e-4`` (no dot) is a string; here it is the float 0.0001.
    """
    import yaml

    name, sep, value = item.partition("=")
    if not sep or not name.isidentifier():
        raise ValueError(f"--parameter expects NAME=VALUE, got {item!r}")
    try:
        return name, yaml.load(value, Loader=_NumberFriendlyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as error:
        reason = " ".join(str(getattr(error, "problem", None) or error).split())
        raise ValueError(f"-p {name}: {value!r} is not a valid YAML value ({reason})") from None


def _number_friendly_loader():
    import re

    import yaml

    class Loader(yaml.SafeLoader):
        """SafeLoader that also reads 1e-4, 1E3, -2.5e+2 as floats (YAML 1.2 style)."""

    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
        list("-+0123456789."),
    )
    return Loader


_NumberFriendlyLoader = _number_friendly_loader()


if __name__ == "__main__":
    sys.exit(main())
