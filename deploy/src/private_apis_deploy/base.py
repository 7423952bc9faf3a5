"""What every stack of the app shares: its account's env, fixed zones, named values, outputs."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Annotations, CfnOutput, Environment, Fn, Stack, Tags
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct, IConstruct

from private_apis_deploy.settings import STACKS, Settings


class AccountStack(Stack):
    """One account's stack, with its env (account, region) from the settings, so that each is
    deployed with that account's credentials and nothing is looked up at synth time."""

    def __init__(self, scope: Construct, key: str, settings: Settings, description: str) -> None:
        self.settings = settings
        super().__init__(
            scope,
            STACKS[key],
            env=Environment(account=settings.accounts[key], region=settings.region),
            description=description,
        )
        Tags.of(self).add("project", "private-apis")

    # Without this an env-specific stack looks its zones up in the account at synth time. The
    # zones named in the context, else the account's first ones as CloudFormation picks them at
    # deploy time (Fn::GetAZs): `cdk synth` stays offline either way. (The zone ids of the
    # context, when given, pin the subnets: network.private_vpc.)
    @property
    def availability_zones(self) -> list[str]:
        if self.settings.availability_zones:
            return list(self.settings.availability_zones)
        count = len(self.settings.availability_zone_ids) or 2
        return [Fn.select(index, Fn.get_azs()) for index in range(count)]

    def deployed(self, name: str) -> str:
        """The deployed value of a cross-account input; while it is still the local stand-in,
        a warning on this stack says where the real one comes from (`make deploy` passes
        --strict, so such a stack is not deployed)."""
        value, _ = self.settings.deployed[name]
        if name in self.settings.placeholders:
            Annotations.of(self).add_warning_v2(
                f"private-apis:placeholder:{name}",
                f"{name} is the local stand-in {value}; deploying needs"
                f" {self.settings.placeholders[name]} (deploy/README.md, the deploy order)",
            )
        return value

    def output(self, key: str, value: str, description: str) -> None:
        CfnOutput(self, key, value=value, description=description)


def suppress(
    construct: IConstruct,
    rule: str,
    reason: str,
    *,
    applies_to: Sequence[str] = (),
    children: bool = True,
) -> None:
    """A cdk-nag finding accepted on `construct` (and its children), with the written reason."""
    NagSuppressions.add_resource_suppressions(
        construct,
        [NagPackSuppression(id=rule, reason=reason, applies_to=list(applies_to) or None)],
        apply_to_children=children,
    )
