"""The names shipped as package data."""

import re

import pytest
from dog_names.names import GENDERS, Kennel, load_names

NAME = re.compile(r"[A-Z][a-z]+")


@pytest.mark.parametrize("gender", GENDERS)
def test_at_least_200_unique_names(gender: str) -> None:
    names = load_names(gender)  # type: ignore[arg-type]
    assert len(names) >= 200
    assert len(set(names)) == len(names), "duplicate names"
    bad = [name for name in names if not NAME.fullmatch(name)]
    assert bad == []


def test_no_name_is_in_both_lists() -> None:
    assert set(load_names("male")) & set(load_names("female")) == set()


@pytest.mark.parametrize("gender", GENDERS)
def test_kennel_refuses_an_empty_list(gender: str) -> None:
    names = {"male": ("Rex",), "female": ("Bella",)}
    names[gender] = ()
    with pytest.raises(ValueError, match=f"no {gender} dog names"):
        Kennel(names)  # type: ignore[arg-type]


@pytest.mark.parametrize("gender", GENDERS)
def test_random_dog_of_a_gender(gender: str) -> None:
    kennel = Kennel({"male": ("Rex", "Max"), "female": ("Bella", "Luna")})
    for _ in range(50):
        dog = kennel.random_dog(gender)  # type: ignore[arg-type]
        assert dog.gender == gender
        assert dog.name in kennel.names(gender)  # type: ignore[arg-type]
