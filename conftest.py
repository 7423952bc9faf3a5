# pytest's importlib mode names test modules after their folders, and the folder `gateway/`
# shares its name with the `gateway` package: import the real package first.
import gateway  # noqa: F401
