"""`causalbench list` and `causalbench describe`: what is registered, and what an environment is."""

from __future__ import annotations

import argparse

from ..env.registry import ENVS, make
from .common import Handler


def configure_list(p: argparse.ArgumentParser) -> Handler:
    p.add_argument("--methods", action="store_true", help="list baseline methods instead of environments")

    def run(args: argparse.Namespace) -> int:
        if args.methods:
            from ..methods import METHODS  # local: listing environments must not pay for numpy

            for entry in METHODS.entries():
                tracks = ", ".join(entry.meta.get("tracks", ()))
                print(f"{entry.name:<22} [{tracks}] {entry.summary}")
            return 0
        for entry in ENVS.entries():
            print(f"{entry.name:<24} {entry.summary}")
        return 0

    return run


def configure_describe(p: argparse.ArgumentParser) -> Handler:
    p.add_argument("env", help="environment id, e.g. IceCreamShorts-v1")

    def run(args: argparse.Namespace) -> int:
        print(make(args.env).describe())
        return 0

    return run
