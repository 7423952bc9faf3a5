"""Dog Names provider (SPEC section 3)."""

from dog_names.app import create_app
from dog_names.settings import Settings, get_settings

__all__ = ["Settings", "create_app", "get_settings"]
