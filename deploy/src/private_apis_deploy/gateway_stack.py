"""Account 111111111111: the APIs of api/ and what they reach, and the mTLS proxy.

- interface endpoints to the two providers' endpoint services, each behind an internal NLB
  (provider_link), which the REST APIs' VPC links (V1) and the HTTP API's VPC link (V2) reach;
- the public HTTP API `global` (api/global.yaml), the PRIVATE REST APIs `partner` and `mtls`
  (api/partner.yaml, api/mtls.yaml), their documents unchanged but for the named values;
- the execute-api interface endpoint the mTLS proxy calls `mtls` through, and the proxy;
- the producer side of the front door (widgets): the PRIVATE `widgets` API (api/widgets.yaml),
  its function, the TOKEN authorizer (also `mtls`'s) and its secret in Secrets Manager, with
  rotation.
"""

from __future__ import annotations

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from private_apis_deploy.apis import RestApis, http_api
from private_apis_deploy.base import AccountStack
from private_apis_deploy.mtls_proxy import MtlsProxy
from private_apis_deploy.network import IMAGE_PULL_ENDPOINTS, PRIVATE, S3_GATEWAY, private_vpc
from private_apis_deploy.provider_link import ProviderLink
from private_apis_deploy.settings import Settings
from private_apis_deploy.values import load_table
from private_apis_deploy.widgets import Widgets

ENDPOINTS = (
    *IMAGE_PULL_ENDPOINTS,
    ("SecretsManager", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER),  # the proxy's certs
    ("ExecuteApi", ec2.InterfaceVpcEndpointAwsService.APIGATEWAY),  # proxyVpceId
)


class GatewayStack(AccountStack):
    def __init__(self, scope: Construct, settings: Settings) -> None:
        super().__init__(
            scope,
            "gateway",
            settings,
            "private-apis: the global, partner, mtls and widgets APIs, their VPC links and"
            " functions, the mTLS proxy",
        )
        table = load_table()
        network = private_vpc(
            self, "10.211.0.0/16", interface_endpoints=ENDPOINTS, gateway_endpoints=S3_GATEWAY
        )
        vpc = network.vpc
        execute_api = network.endpoints["ExecuteApi"]
        zones = len(self.availability_zones)

        dog_names = ProviderLink(
            self,
            "DogNames",
            vpc=vpc,
            service_name=self.deployed("dogNamesEndpointService"),
            zones=zones,
        )
        todo = ProviderLink(
            self, "Todo", vpc=vpc, service_name=self.deployed("todoEndpointService"), zones=zones
        )

        # The HTTP API's VPC link: interfaces in the VPC, from which it reaches both listeners.
        link_group = ec2.SecurityGroup(
            self,
            "HttpVpcLinkSecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="the VPC link of the global API",
        )
        http_link = apigwv2.VpcLink(
            self, "HttpVpcLink", vpc=vpc, subnets=PRIVATE, security_groups=[link_group]
        )
        for provider in (dog_names, todo):
            provider.allow_from(link_group, "the VPC link of the global API")

        # One table of named values, the deployed side of each (deploy/values.yaml).
        consumer_account = self.deployed("consumerAccount")
        deployed = {
            "region": self.region,
            "gatewayAccount": self.account,
            "consumerAccount": consumer_account,
            "consumerVpceId": self.deployed("consumerVpceId"),
            "frontdoorVpceId": self.deployed("frontdoorVpceId"),
            "proxyVpceId": execute_api.vpc_endpoint_id,
            "httpVpcLinkId": http_link.vpc_link_id,
            "dogNamesListenerArn": dog_names.listener.listener_arn,
            "todoListenerArn": todo.listener.listener_arn,
        }
        stage_variables = {
            "dogNamesVpcLinkId": dog_names.rest_link.vpc_link_id,
            "todoVpcLinkId": todo.rest_link.vpc_link_id,
            "dogNamesHost": dog_names.load_balancer.load_balancer_dns_name,
            "todoHost": todo.load_balancer.load_balancer_dns_name,
        }

        global_api = http_api(self, table, "global", deployed)
        rest = RestApis(self, table)
        partner = rest.add("partner", deployed, stage_variables)
        # widgets adds its functions' ARNs to the named values.
        widgets = Widgets(self, rest, deployed, consumer_account=consumer_account)
        # mtls has the same TOKEN authorizer (the cross-account patterns post's pattern 2: the
        # client certificate for the proxy, the shared secret for the API).
        mtls = rest.add(
            "mtls",
            {**deployed, "tokenAuthorizerArn": widgets.authorizer.function_arn},
            stage_variables,
        )
        widgets.authorize(mtls, "InvokedByMtlsApi")

        cluster = ecs.Cluster(
            self, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED
        )
        proxy = MtlsProxy(self, network=network, cluster=cluster, mtls_api_id=mtls.rest_api_id)

        # The deployed side of every named value this stack makes (values.yaml `output:`).
        outputs = {
            "ProxyVpceId": (deployed["proxyVpceId"], "the execute-api endpoint of the proxy"),
            "HttpVpcLinkId": (deployed["httpVpcLinkId"], "global's VPC link"),
            "DogNamesListenerArn": (deployed["dogNamesListenerArn"], "Dog Names listener"),
            "TodoListenerArn": (deployed["todoListenerArn"], "ToDo listener"),
            **{
                key[0].upper() + key[1:]: (value, f"stage variable {key} of partner and mtls")
                for key, value in stage_variables.items()
            },
            "PartnerApiId": (partner.rest_api_id, "-c partnerApiId=<this> for the consumer"),
            "MtlsApiId": (mtls.rest_api_id, "the mtls API"),
            "GlobalApiId": (global_api.ref, "the global API"),
            "GlobalApiUrl": (global_api.attr_api_endpoint, "the public API's URL"),
            "MtlsProxyDnsName": (proxy.load_balancer.load_balancer_dns_name, "port 8443"),
            "VpcId": (vpc.vpc_id, "the gateway VPC"),
            "WidgetsApiId": (widgets.api.rest_api_id, "-c widgetsApiId=<this> for the consumer"),
            "WidgetsFunctionArn": (widgets.function.function_arn, "GET /widgets of widgets"),
            "TokenAuthorizerArn": (
                widgets.authorizer.function_arn,
                "-c tokenAuthorizerArn=<this> for the consumer (the front door's authorizer)",
            ),
            "AuthorizerTokenSecretArn": (
                widgets.secret.secret_arn,
                "the front door's token (get-secret-value --secret-id <this>);"
                " -c authorizerTokenSecretArn=<this> for the consumer",
            ),
            "AuthorizerTokenKeyArn": (
                widgets.key.key_arn,
                "-c authorizerTokenKeyArn=<this> for the consumer (the widgets function's token)",
            ),
        }
        for key, (value, description) in outputs.items():
            self.output(key, value, description)
