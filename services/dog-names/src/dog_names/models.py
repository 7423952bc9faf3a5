"""The wire formats, as pydantic models: they document the answers in /openapi.json and render
them (see answers.py)."""

from typing import Literal

from pydantic import BaseModel


class DogOut(BaseModel):
    """The reference service's wire format: capitalised keys."""

    Name: str
    Gender: Literal["male", "female"]


class HealthOut(BaseModel):
    status: Literal["ok"]


class ErrorOut(BaseModel):
    message: str
