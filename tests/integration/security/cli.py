"""Run the operator commands (`vward user|audit|device ...`) in-process, as the CLI would."""

from __future__ import annotations

import argparse

from vward.admin_cli import register


def vward(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="vward")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code
