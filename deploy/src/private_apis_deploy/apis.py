"""The APIs of api/*.yaml, imported as their documents (the CloudFormation Body), unchanged but
for the named values of deploy/values.yaml; the stages log what the local gateway logs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from private_apis_deploy.base import AccountStack, suppress
from private_apis_deploy.values import Table, load_document

# The local gateway's access-log fields (gateway/README.md), as API Gateway's $context names them.
REST_ACCESS_LOG = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "apiId": "$context.apiId",
    "stage": "$context.stage",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "status": "$context.status",
    "integrationLatency": "$context.integrationLatency",
    "responseLatency": "$context.responseLatency",
    "sourceIp": "$context.identity.sourceIp",
    "vpceId": "$context.identity.vpceId",
    "principal": "$context.identity.userArn",
    "errorMessage": "$context.error.message",
    "requestTime": "$context.requestTime",
    "userAgent": "$context.identity.userAgent",
    "xrayTraceId": "$context.xrayTraceId",
}
# HTTP APIs have no resource path (the route key instead), no VPC endpoint and no X-Ray.
HTTP_ACCESS_LOG = {
    **{k: v for k, v in REST_ACCESS_LOG.items() if k not in ("vpceId", "principal", "xrayTraceId")},
    "resourcePath": "$context.routeKey",
}


PROVIDERS_VALIDATE = (
    "the providers validate every request themselves and answer 400 with the reason, as they do"
    " locally"
)


def _log_group(scope: Construct, id: str) -> logs.LogGroup:
    return logs.LogGroup(
        scope, id, retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
    )


def http_api(
    stack: AccountStack, table: Table, name: str, deployed: Mapping[str, str]
) -> apigwv2.CfnApi:
    """An HTTP API from its document (Body), on the `$default` stage, deployed automatically."""
    body = table.substitute(load_document(stack.settings.api_dir / f"{name}.yaml"), deployed)
    api = apigwv2.CfnApi(stack, f"{name.title()}Api", body=body, fail_on_warnings=True)
    access_logs = _log_group(stack, f"{name.title()}AccessLogs")
    apigwv2.CfnStage(
        stack,
        f"{name.title()}Stage",
        api_id=api.ref,
        stage_name="$default",
        auto_deploy=True,
        access_log_settings=apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=access_logs.log_group_arn, format=json.dumps(HTTP_ACCESS_LOG)
        ),
    )
    return api


class RestApis(Construct):
    """The private REST APIs, and the account setting that lets API Gateway write their logs."""

    def __init__(self, stack: AccountStack, table: Table) -> None:
        super().__init__(stack, "RestApis")
        self._stack = stack
        self._table = table
        # REST stages log through an account-wide role (one per account and region).
        role = iam.Role(
            self,
            "CloudWatchRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
                )
            ],
        )
        suppress(
            role,
            "AwsSolutions-IAM4",
            "AWS's own policy for API Gateway's account-wide logging role, the documented way"
            " to let REST stages write access and execution logs",
            applies_to=[
                "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs"
            ],
        )
        self.account = apigw.CfnAccount(self, "Account", cloud_watch_role_arn=role.role_arn)

    def add(
        self,
        name: str,
        deployed: Mapping[str, str],
        stage_variables: Mapping[str, str],
        *,
        endpoint_type: apigw.EndpointType = apigw.EndpointType.PRIVATE,
        validated_by: str = PROVIDERS_VALIDATE,
    ) -> apigw.SpecRestApi:
        """A REST API from its document, on stage `prod` with `stage_variables`. A PRIVATE one
        (the default) is reached through the VPC endpoints its resource policy names; a REGIONAL
        one needs a web ACL of its caller's (frontdoor.regional_web_acl). `validated_by`: who
        checks the requests, as the API has no request validators."""
        settings = self._stack.settings
        body: Any = self._table.substitute(
            load_document(settings.api_dir / f"{name}.yaml"), deployed
        )
        access_logs = _log_group(self, f"{name.title()}AccessLogs")
        api = apigw.SpecRestApi(
            self,
            f"{name.title()}Api",
            rest_api_name=name,
            api_definition=apigw.ApiDefinition.from_inline(body),
            endpoint_types=[endpoint_type],
            fail_on_warnings=True,
            cloud_watch_role=False,  # the one role above
            deploy_options=apigw.StageOptions(
                stage_name="prod",
                variables=dict(stage_variables) or None,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(REST_ACCESS_LOG)),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # bodies and headers stay out of the logs
            ),
        )
        api.deployment_stage.node.add_dependency(self.account)
        suppress(
            api,
            "AwsSolutions-APIG2",
            f"the document is imported unchanged (no request validators); {validated_by}",
        )
        if endpoint_type == apigw.EndpointType.PRIVATE:
            suppress(
                api,
                "AwsSolutions-APIG3",
                "a PRIVATE API: only the VPC endpoints its resource policy names can reach it, so"
                " there is no internet traffic for a web ACL to filter",
            )
        return api
