"""The deployment files agree with the code: probes, ports, grace periods, settings, a clean Dockerfile.

Docker cannot run on our machines, so the image is checked statically; hadolint runs in `make lint`.
"""

from __future__ import annotations

import re

import yaml

from imgopt.config import describe_settings
from testing.server import ROOT

GRACEFUL_TIMEOUT = int(
    re.search(r"^graceful_timeout = (\d+)", (ROOT / "gunicorn.conf.py").read_text(), re.M)[1]
)
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["imgopt"]
KUBERNETES = {
    doc["kind"]: doc for doc in yaml.safe_load_all((ROOT / "deploy/kubernetes/imgopt.yaml").read_text())
}


def seconds(value: str) -> int:
    return int(value.removesuffix("s"))


def test_dockerfile_healthcheck_targets_the_probe_responder():
    healthcheck = next(line for line in DOCKERFILE.splitlines() if "urlopen" in line)
    assert "HEALTH_PORT" in healthcheck and "/health" in healthcheck
    assert "HEALTH_PORT=3001" in DOCKERFILE
    assert "EXPOSE 3000 3001" in DOCKERFILE


def test_dockerfile_runs_gunicorn_with_the_project_config_as_non_root():
    assert 'CMD ["gunicorn", "-c", "gunicorn.conf.py"]' in DOCKERFILE
    assert re.search(r"^USER 10001:10001$", DOCKERFILE, re.M)
    assert "STOPSIGNAL SIGTERM" in DOCKERFILE


def test_dependencies_are_installed_before_the_code_is_copied():
    assert DOCKERFILE.index("pip install .") < DOCKERFILE.index("COPY imgopt ./imgopt")


def test_compose_grace_period_outlasts_gunicorn_and_probes_the_responder():
    assert seconds(COMPOSE["stop_grace_period"]) > GRACEFUL_TIMEOUT
    assert "3001/health" in " ".join(COMPOSE["healthcheck"]["test"])
    assert "ports" not in COMPOSE, "Coolify: no public port; docker-compose.local.yml publishes one locally"


def test_compose_passes_every_setting():
    passed = set(COMPOSE["environment"])
    for variable, _default, _help in describe_settings():
        if variable not in {"HOST", "PORT", "HEALTH_PORT"}:
            assert variable in passed, variable


def test_kubernetes_deployment_has_probes_limits_and_grace():
    pod = KUBERNETES["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["terminationGracePeriodSeconds"] > GRACEFUL_TIMEOUT
    assert container["livenessProbe"]["httpGet"]["port"] == "probe"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert {port["containerPort"] for port in container["ports"]} == {3000, 3001}
    assert container["resources"]["limits"]["memory"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert KUBERNETES["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"] == "imgopt"
    assert KUBERNETES["Service"]["spec"]["ports"][0]["port"] == 3000
