"""Build the deployable images and push them to Amazon ECR or any registry (`make push`)."""

from image_push.errors import PushError
from image_push.images import IMAGES, Image, select_images

__all__ = ["IMAGES", "Image", "PushError", "select_images"]
