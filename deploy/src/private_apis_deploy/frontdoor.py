"""The front door (the cross-account patterns post, pattern 1), in the consumer account: a
REGIONAL REST API (api/frontdoor.yaml) that exposes the gateway account's private `widgets` API.

    caller ─> frontdoor (REGIONAL, web ACL, TOKEN authorizer) ─ VPC link ─> internal NLB :443
      ─> the front door's execute-api endpoint (consumer VPC) ─> widgets (PRIVATE, its policy
         admits this endpoint only) ─> the widgets function

The front door lives in the consumer VPC (the account's one VPC) with an execute-api endpoint of
its own beside the consumer Lambda's, so `widgets` admits the front door's endpoint and nothing
else, `partner` the consumer Lambda's. The endpoint has no private DNS (a VPC takes that from one
execute-api endpoint only, the consumer Lambda's): the NLB reaches it by address, TLS passes
through the NLB unbroken, and the integration uri's host (the widgets API's own execute-api
name) is the SNI and the Host header that select the private API.

`FrontdoorLink` (endpoint, NLB, VPC link) comes with the consumer's first deploy, whose
FrontdoorVpceId widgets's policy names; `frontdoor_api` needs the gateway stack's outputs
(WidgetsApiId, TokenAuthorizerArn) and comes with the second.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_elasticloadbalancingv2_targets as targets
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from private_apis_deploy.apis import RestApis
from private_apis_deploy.base import AccountStack, suppress
from private_apis_deploy.endpoint_addresses import endpoint_addresses
from private_apis_deploy.network import PRIVATE, internal_nlb
from private_apis_deploy.values import Table

HTTPS = 443
# Requests per five minutes from one address before the web ACL blocks it (WAF's window).
RATE_LIMIT = 1000


class FrontdoorLink(Construct):
    """The front door's way to the private API: its own execute-api endpoint, an internal NLB
    whose targets are the endpoint's interfaces, and the REST VPC link to that NLB."""

    def __init__(self, stack: AccountStack, *, vpc: ec2.IVpc, zones: int) -> None:
        super().__init__(stack, "Frontdoor")
        self.endpoint = ec2.InterfaceVpcEndpoint(
            self,
            "Endpoint",
            vpc=vpc,
            service=ec2.InterfaceVpcEndpointAwsService.APIGATEWAY,
            subnets=PRIVATE,
            private_dns_enabled=False,  # the consumer Lambda's endpoint has the VPC's
            open=False,
        )
        security_group = ec2.SecurityGroup(
            self,
            "NlbSecurityGroup",
            vpc=vpc,
            description="front door NLB, reached by its VPC link (PrivateLink)",
            allow_all_outbound=False,
        )
        # Only the NLB reaches this endpoint (its traffic and its health checks).
        self.endpoint.connections.allow_from(
            security_group, ec2.Port.tcp(HTTPS), "the front door's NLB"
        )
        addresses = endpoint_addresses(self, self.endpoint, zones)

        # The VPC link arrives by PrivateLink, which the group cannot name.
        self.load_balancer = internal_nlb(
            self, vpc, security_group, private_link_traffic_unfiltered=True
        )
        suppress(
            self.load_balancer,
            "AwsSolutions-ELB2",
            "NLB access logs are written for TLS listeners only; this one is TCP because TLS"
            " passes through to the endpoint unbroken (the front door's and the widgets API's"
            " access logs record every request)",
        )
        listener = self.load_balancer.add_listener(
            "Listener", port=HTTPS, protocol=elbv2.Protocol.TCP
        )
        listener.add_targets(
            "Endpoint",
            port=HTTPS,
            protocol=elbv2.Protocol.TCP,
            targets=[targets.IpTarget(address) for address in addresses],
            # An HTTP check would need an API's host name (and TLS) to get more than an error:
            # the check is that each interface takes connections.
            health_check=elbv2.HealthCheck(
                protocol=elbv2.Protocol.TCP,
                interval=Duration.seconds(10),
                healthy_threshold_count=2,
                unhealthy_threshold_count=2,
            ),
            deregistration_delay=Duration.seconds(30),
        )
        self.link = apigw.VpcLink(self, "VpcLink", targets=[self.load_balancer])


def frontdoor_api(
    stack: AccountStack,
    table: Table,
    link: FrontdoorLink,
    deployed: Mapping[str, str],
    *,
    widgets_api_id: str,
) -> apigw.SpecRestApi:
    """The REGIONAL front door on stage `prod`, its stage variables the widgets API's id and
    the VPC link, behind a web ACL."""
    rest = RestApis(stack, table)
    api = rest.add(
        "frontdoor",
        deployed,
        {"widgetsApiId": widgets_api_id, "widgetsVpcLinkId": link.link.vpc_link_id},
        endpoint_type=apigw.EndpointType.REGIONAL,
        validated_by="the authorizer checks the token's shape before it is called"
        " (identityValidationExpression), and every request goes on unchanged to the widgets"
        " API, whose function answers what it does not serve with 404 or 405",
    )
    web_acl = regional_web_acl(stack, "FrontdoorWebAcl")
    wafv2.CfnWebACLAssociation(
        stack,
        "FrontdoorWebAclAssociation",
        resource_arn=api.deployment_stage.stage_arn,
        web_acl_arn=web_acl.attr_arn,
    )
    return api


def regional_web_acl(scope: Construct, id: str) -> wafv2.CfnWebACL:
    """AWS's managed rules for common exploits and known bad inputs, and a per-address rate
    limit, in front of a public API (the token is checked behind it, by the authorizer)."""

    def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
        return wafv2.CfnWebACL.VisibilityConfigProperty(
            cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
        )

    def managed(priority: int, name: str) -> wafv2.CfnWebACL.RuleProperty:
        return wafv2.CfnWebACL.RuleProperty(
            name=name,
            priority=priority,
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS", name=name
                )
            ),
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            visibility_config=visibility(name),
        )

    return wafv2.CfnWebACL(
        scope,
        id,
        scope="REGIONAL",
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        visibility_config=visibility(id),
        rules=[
            managed(0, "AWSManagedRulesCommonRuleSet"),
            managed(1, "AWSManagedRulesKnownBadInputsRuleSet"),
            wafv2.CfnWebACL.RuleProperty(
                name="RatePerAddress",
                priority=2,
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=RATE_LIMIT, aggregate_key_type="IP"
                    )
                ),
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                visibility_config=visibility("RatePerAddress"),
            ),
        ],
    )
