"""`python -m todo [gunicorn options]`: exec gunicorn serving `todo:create_app()`."""

import os
import sys


def main() -> None:
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:todo.gunicorn_conf",
        *sys.argv[1:],
        "todo:create_app()",
    ]
    os.execv(sys.executable, argv)  # noqa: S606  # gunicorn replaces this process (PID 1 in the image)


if __name__ == "__main__":
    main()
