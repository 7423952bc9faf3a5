"""The NGINX mutual-TLS proxy (proxy/nginx-mtls) on Fargate behind an NLB, forwarding to the
private `mtls` API through the gateway VPC's execute-api endpoint.

Its certificates come from one Secrets Manager secret (JSON keys server_crt, server_key, ca_crt,
ca_crl; deploy/README.md shows how to make it from ./certs): ECS hands them to the container as
environment variables, a short shell step writes them to files under /tmp (the image's
entrypoint reads files) and drops the variables before NGINX starts. Nothing is in the image.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from private_apis_deploy.base import AccountStack, suppress
from private_apis_deploy.fargate import USER, fargate_task
from private_apis_deploy.images import container_image
from private_apis_deploy.network import PRIVATE, PrivateNetwork, internal_nlb

PORT = 8443
CERT_DIR = "/tmp/mtls-certs"  # noqa: S108 - the image's only writable place (uid 10001)
# secret JSON key -> (variable the container gets it in, file the entrypoint reads)
CERT_FILES = {
    "server_crt": ("MTLS_SERVER_CRT", f"{CERT_DIR}/server.crt"),
    "server_key": ("MTLS_SERVER_KEY", f"{CERT_DIR}/server.key"),
    "ca_crt": ("MTLS_CA_CRT", f"{CERT_DIR}/ca.crt"),
    "ca_crl": ("MTLS_CA_CRL", f"{CERT_DIR}/ca.crl"),
}
WRITE_CERTS_THEN_RUN = "; ".join(
    [
        "set -eu",
        "umask 077",
        f"mkdir -p {CERT_DIR}",
        *(f'printf "%s\\n" "${variable}" >{path}' for variable, path in CERT_FILES.values()),
        "unset " + " ".join(variable for variable, _ in CERT_FILES.values()),
        "exec /usr/local/bin/entrypoint.sh run",
    ]
)


class MtlsProxy(Construct):
    def __init__(
        self,
        stack: AccountStack,
        *,
        network: PrivateNetwork,
        cluster: ecs.ICluster,
        mtls_api_id: str,
    ) -> None:
        super().__init__(stack, "MtlsProxy")
        vpc = network.vpc
        settings = stack.settings
        # By name (the ARN's random suffix is not known before the secret exists), or by the
        # full ARN `aws secretsmanager create-secret` printed.
        secret = (
            secretsmanager.Secret.from_secret_complete_arn(
                self, "Certificates", settings.mtls_secret_name
            )
            if settings.mtls_secret_name.startswith("arn:")
            else secretsmanager.Secret.from_secret_name_v2(
                self, "Certificates", settings.mtls_secret_name
            )
        )
        # The API by its own name, resolved by the execute-api endpoint's private DNS: the
        # request goes through that endpoint, the one mtls's resource policy admits.
        api_host = f"{mtls_api_id}.execute-api.{stack.region}.{stack.url_suffix}"

        self.security_group = ec2.SecurityGroup(
            self,
            "NlbSecurityGroup",
            vpc=vpc,
            description="mTLS proxy NLB",
            allow_all_outbound=False,
        )
        # Clients inside the VPC (or networks routed to it); NGINX checks their certificates.
        self.security_group.add_ingress_rule(
            ec2.Peer.ipv4(network.cidr), ec2.Port.tcp(PORT), "mTLS clients in the VPC"
        )
        self.load_balancer = internal_nlb(self, vpc, self.security_group)
        suppress(
            self.load_balancer,
            "AwsSolutions-ELB2",
            "NLB access logs are written for TLS listeners only; this listener is TCP because TLS"
            " must reach NGINX unbroken (it verifies the client certificate), and NGINX logs"
            " every request with the certificate's subject",
        )

        task, log_group = fargate_task(self)
        task.add_container(
            "nginx-mtls",
            image=container_image(stack, "nginx-mtls"),
            user=USER,
            command=["bash", "-c", WRITE_CERTS_THEN_RUN],
            port_mappings=[ecs.PortMapping(container_port=PORT)],
            environment={
                "UPSTREAM_URL": f"https://{api_host}/prod",
                "UPSTREAM_HOST": api_host,
                "SERVER_NAME": self.load_balancer.load_balancer_dns_name,
                "RESOLVER": "169.254.169.253 valid=10s ipv6=off",  # the VPC's resolver
                "TLS_CERT": CERT_FILES["server_crt"][1],
                "TLS_KEY": CERT_FILES["server_key"][1],
                "CLIENT_CA": CERT_FILES["ca_crt"][1],
                "CLIENT_CRL": CERT_FILES["ca_crl"][1],
            },
            secrets={
                variable: ecs.Secret.from_secrets_manager(secret, key)
                for key, (variable, _) in CERT_FILES.items()
            },
            logging=ecs.LogDrivers.aws_logs(stream_prefix="nginx-mtls", log_group=log_group),
            health_check=ecs.HealthCheck(
                command=["CMD", "/usr/local/bin/healthcheck.sh"],
                interval=Duration.seconds(10),
                timeout=Duration.seconds(3),
                start_period=Duration.seconds(15),
                retries=3,
            ),
        )
        suppress(
            task,
            "AwsSolutions-IAM5",
            "the execution role's ecr:GetAuthorizationToken, which has no resource-level"
            " permissions (ECR documents Resource *); the pull, log and secret actions name"
            " their resources",
            applies_to=["Resource::*"],
        )
        suppress(
            task,
            "AwsSolutions-ECS2",
            "the environment holds the proxy's settings only (upstream, paths, resolver); the"
            " certificates and the key come from Secrets Manager as ECS secrets",
        )

        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=task,
            desired_count=2,
            min_healthy_percent=100,
            max_healthy_percent=200,
            vpc_subnets=PRIVATE,
            assign_public_ip=False,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
        )
        listener = self.load_balancer.add_listener(
            "Listener", port=PORT, protocol=elbv2.Protocol.TCP
        )
        listener.add_targets(
            "Tasks",
            port=PORT,
            protocol=elbv2.Protocol.TCP,
            targets=[self.service],
            # NGINX's health port listens on the task's loopback only: the NLB checks that the
            # TLS port accepts connections.
            health_check=elbv2.HealthCheck(
                protocol=elbv2.Protocol.TCP,
                interval=Duration.seconds(10),
                healthy_threshold_count=2,
                unhealthy_threshold_count=2,
            ),
            deregistration_delay=Duration.seconds(30),
        )
        self.service.connections.allow_from(self.security_group, ec2.Port.tcp(PORT), "the NLB")
