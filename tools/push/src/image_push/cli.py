"""`python -m image_push`: the command behind `make push`; options default to the environment."""

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from image_push.docker import Docker
from image_push.errors import PushError
from image_push.images import BASE_IMAGE_ARGS, IMAGES, select_images
from image_push.push import Options, push_images

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise PushError(f"{name} must be 1 or 0, not {env[name]!r}")


def parse_args(argv: Sequence[str] | None, env: Mapping[str, str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m image_push",
        description=(
            "Build the deployable images, tag them with the git revision and push them: to the "
            "ECR registry of the current AWS account and region, or to --registry."
        ),
    )
    parser.add_argument(
        "--registry",
        default=env.get("REGISTRY") or None,
        help="push to host[:port] instead of ECR, without any AWS call (env REGISTRY)",
    )
    parser.add_argument(
        "--images",
        default=env.get("IMAGES", ""),
        help=f"comma or space separated subset of: {', '.join(i.name for i in IMAGES)} "
        "(env IMAGES; default all)",
    )
    parser.add_argument(
        "--allow-dirty",
        action="store_true",
        default=_flag(env, "ALLOW_DIRTY"),
        help="push from a work tree with changes, tagged <revision>-dirty (env ALLOW_DIRTY=1)",
    )
    parser.add_argument(
        "--no-build",
        action="store_true",
        default=_flag(env, "NO_BUILD"),
        help="push the images already built as private-apis/<name>:local (env NO_BUILD=1)",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=Path.cwd(),
        help="repository root: build folders and git revision (default: current directory)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env

    def log(message: str) -> None:
        print(f"[push] {message}", file=sys.stderr, flush=True)

    def report(line: str) -> None:
        print(line, flush=True)

    try:
        args = parse_args(argv, env)
        options = Options(
            root=args.root.resolve(),
            images=select_images(args.images),
            registry=args.registry,
            allow_dirty=args.allow_dirty,
            build=not args.no_build,
            build_args={key: env[key] for key in BASE_IMAGE_ARGS if env.get(key)},
        )
        push_images(options, docker=Docker(), log=log, report=report)
    except PushError as exc:
        print(f"push: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("push: interrupted", file=sys.stderr)
        return 130
    return 0
