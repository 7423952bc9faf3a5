"""The deployable images: one table, name -> build folder -> repository."""

import re
from dataclasses import dataclass

from image_push.errors import PushError

# Build arguments passed through from the environment when set: the base images
# (docs/architecture.md).
BASE_IMAGE_ARGS = ("PYTHON_IMAGE", "NGINX_IMAGE")

LOCAL_TAG = "local"


@dataclass(frozen=True)
class Image:
    name: str
    folder: str  # the folder of its Dockerfile, relative to the repository root
    repository: str  # ECR repository name, and the local image name
    # The build context when it is not `folder`: the Lambda functions build from services/, so
    # that each installs the shared emulator (services/lambda-rie) beside its own package.
    context: str | None = None

    @property
    def local_ref(self) -> str:
        return f"{self.repository}:{LOCAL_TAG}"

    @property
    def build_context(self) -> str:
        return self.context or self.folder


# The gateway stands in for Amazon API Gateway (a managed service) and certgen runs only locally:
# neither is deployed, so neither is pushed.
IMAGES: tuple[Image, ...] = (
    Image("dog-names", "services/dog-names", "private-apis/dog-names"),
    Image("todo", "services/todo", "private-apis/todo"),
    Image(
        "consumer-lambda", "services/consumer-lambda", "private-apis/consumer-lambda", "services"
    ),
    Image("nginx-mtls", "proxy/nginx-mtls", "private-apis/nginx-mtls"),
    Image("widgets-lambda", "services/widgets-lambda", "private-apis/widgets-lambda", "services"),
    Image(
        "token-authorizer", "services/token-authorizer", "private-apis/token-authorizer", "services"
    ),
)


def select_images(spec: str | None) -> list[Image]:
    """The images named in `spec` (comma or space separated), in table order; all when empty."""
    names = [name for name in re.split(r"[\s,]+", spec or "") if name]
    if not names:
        return list(IMAGES)
    known = {image.name for image in IMAGES}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise PushError(
            f"unknown image {', '.join(repr(name) for name in unknown)} in IMAGES; "
            f"choose from: {', '.join(image.name for image in IMAGES)}"
        )
    return [image for image in IMAGES if image.name in names]
