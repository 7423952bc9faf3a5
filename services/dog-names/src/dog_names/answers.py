"""The answers' JSON bytes, rendered once: a dog's body for every name the kennel holds, and the
health answer. A request then only picks bytes; nothing is validated or serialised per request.

The bytes are what FastAPI made of the `response_model` per request before (pydantic's compact
JSON of the validated model), so the wire format does not change.
"""

from starlette.responses import Response

from dog_names.models import DogOut, HealthOut
from dog_names.names import GENDERS, Dog, Kennel


class JSONBytes(Response):
    """A 200 application/json answer whose body is already JSON bytes."""

    media_type = "application/json"


def render_dog(dog: Dog) -> bytes:
    return DogOut(Name=dog.name, Gender=dog.gender).model_dump_json().encode()


HEALTH_BODY = HealthOut(status="ok").model_dump_json().encode()


class DogBodies:
    """The body of every dog in `kennel`, by gender and name; other dogs (a kennel may pick
    outside its lists) are rendered when asked for."""

    def __init__(self, kennel: Kennel) -> None:
        self._bodies = {
            gender: {name: render_dog(Dog(name, gender)) for name in kennel.names(gender)}
            for gender in GENDERS
        }

    def body(self, dog: Dog) -> bytes:
        body = self._bodies[dog.gender].get(dog.name)
        return body if body is not None else render_dog(dog)
