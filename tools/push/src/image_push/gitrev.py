"""The image tag: the git revision of the work tree, refused when the tree has changes."""

import subprocess
from pathlib import Path

from image_push.errors import PushError

DIRTY_SUFFIX = "-dirty"


def _git(root: Path, *args: str) -> str:
    try:
        result = subprocess.run(  # noqa: S603 - fixed git subcommands, no shell
            ["git", "-C", str(root), *args],  # noqa: S607 - git from PATH, as a user runs it
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise PushError("git is not installed: the image tag is the git revision") from None
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()
        raise PushError(f"git {' '.join(args)} failed in {root}: {detail[-1] if detail else ''}")
    return result.stdout


def revision(root: Path) -> str:
    """The full commit id of HEAD."""
    return _git(root, "rev-parse", "--verify", "HEAD").strip()


def changed_paths(root: Path) -> list[str]:
    """Modified, staged and untracked (not ignored) paths: all of them can end up in an image."""
    out = _git(root, "status", "--porcelain", "--untracked-files=all")
    return [line[3:] for line in out.splitlines() if line.strip()]


def image_tag(root: Path, *, allow_dirty: bool) -> str:
    """`<revision>`, or `<revision>-dirty` for a tree with changes when that is allowed.

    The suffix keeps an image built from uncommitted files from passing for the commit itself.
    """
    rev = revision(root)
    changed = changed_paths(root)
    if not changed:
        return rev
    if not allow_dirty:
        shown = ", ".join(changed[:3]) + (
            f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        )
        raise PushError(
            f"the work tree has uncommitted changes ({shown}): commit them, "
            "or set ALLOW_DIRTY=1 to push images tagged <revision>-dirty"
        )
    return rev + DIRTY_SUFFIX
