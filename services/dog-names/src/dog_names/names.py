"""The dog names shipped with the package (data/males.txt, data/females.txt) and random picks."""

import secrets
from dataclasses import dataclass
from importlib import resources
from typing import Literal

Gender = Literal["male", "female"]
GENDERS: tuple[Gender, ...] = ("male", "female")
_FILES: dict[Gender, str] = {"male": "males.txt", "female": "females.txt"}


@dataclass(frozen=True)
class Dog:
    name: str
    gender: Gender


def load_names(gender: Gender) -> tuple[str, ...]:
    """One name per line; blank lines and lines starting with '#' are ignored."""
    text = resources.files("dog_names").joinpath("data", _FILES[gender]).read_text("utf-8")
    names = (line.strip() for line in text.splitlines())
    return tuple(name for name in names if name and not name.startswith("#"))


class Kennel:
    """All names by gender; picks use `secrets` so no worker shares a seeded sequence."""

    def __init__(self, names: dict[Gender, tuple[str, ...]]) -> None:
        for gender in GENDERS:
            if not names.get(gender):
                raise ValueError(f"no {gender} dog names")
        self._names = names

    @classmethod
    def from_package_data(cls) -> "Kennel":
        return cls({gender: load_names(gender) for gender in GENDERS})

    def names(self, gender: Gender) -> tuple[str, ...]:
        return self._names[gender]

    def random_dog(self, gender: Gender | None = None) -> Dog:
        chosen = gender if gender is not None else secrets.choice(GENDERS)
        return Dog(name=secrets.choice(self._names[chosen]), gender=chosen)
