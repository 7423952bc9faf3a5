"""The app: one stack per account, checked by cdk-nag's AwsSolutions pack."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, Aspects
from cdk_nag import AwsSolutionsChecks

from private_apis_deploy.base import AccountStack
from private_apis_deploy.consumer_stack import ConsumerStack
from private_apis_deploy.dog_names_stack import DogNamesStack
from private_apis_deploy.gateway_stack import GatewayStack
from private_apis_deploy.settings import OUTPUTS_DIR, from_context
from private_apis_deploy.todo_stack import TodoStack


def build(app: App, *, outputs_dir: Path | None = OUTPUTS_DIR) -> dict[str, AccountStack]:
    """The four stacks on `app`, by the names `make deploy ACCOUNT=` takes. Each finding of
    cdk-nag is an error or warning on its construct unless suppressed there with its reason."""
    settings = from_context(app.node.try_get_context, outputs_dir=outputs_dir)
    stacks: dict[str, AccountStack] = {
        "dog-names": DogNamesStack(app, settings),
        "todo": TodoStack(app, settings),
        "gateway": GatewayStack(app, settings),
        "consumer": ConsumerStack(app, settings),
    }
    Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return stacks
