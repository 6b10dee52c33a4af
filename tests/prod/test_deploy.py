"""The deployment files agree with each other: variables, channels, endpoints, compose, nginx, make."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from devstack.cluster.binaries import Binaries
from devstack.cluster.envfile import placeholder_secrets, read_env_file
from devstack.cluster.nginx import NGINX_TEMPLATE, render_nginx
from settings import get_cluster_settings, PROJECT_ROOT as ROOT

pytestmark = pytest.mark.prod

COMPOSE = ROOT / "deploy" / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
VAR = re.compile(r"\$\{([A-Z][A-Z0-9_]*)")
COMPOSE_ONLY = {"APP_IMAGE"}


def settings_variables() -> set[str]:
    """Environment variables settings.get_settings() reads."""
    return set(re.findall(r'_(?:text|number)\(env, "([A-Z0-9_]+)"', (ROOT / "settings.py").read_text(encoding="utf-8")))


def run_prod_variables() -> set[str]:
    """Environment variables the cluster harness (devstack/) and settings.py's cluster settings read directly."""
    sources = [ROOT / "settings.py", *sorted((ROOT / "devstack").rglob("*.py"))]
    return {name for path in sources for name in re.findall(r'env\.get\("([A-Z0-9_]+)"', path.read_text(encoding="utf-8"))}


def example() -> dict[str, str]:
    """.env.example as a dict."""
    return read_env_file(ENV_EXAMPLE)


def test_env_example_lists_every_variable() -> None:
    """settings.py, endpoints.prod.yml, the production credentials and the cluster harness all covered."""
    used = settings_variables() | run_prod_variables()
    for path in (ROOT / "endpoints.prod.yml", ROOT / "deploy" / "credentials.prod.yml"):
        used |= set(VAR.findall(path.read_text(encoding="utf-8")))
    used |= {"STAFF_TOKEN", "RASA_AUTH_TOKEN", "SOCKETIO_JWT_SECRET", "CORS_ORIGINS", "SANIC_REQUEST_MAX_SIZE"}
    used -= {"ENV_FILE", "PG_BIN", "PATH", "VAR"}  # documented as comments; PATH; "${VAR}" in a comment
    missing = sorted(used - set(example()))
    assert not missing, f".env.example lacks {missing}"


def test_env_example_holds_no_secret() -> None:
    """Secret-looking variables are empty or obvious placeholders."""
    for name, value in example().items():
        if re.search(r"PASSWORD|SECRET|TOKEN|AES_KEY", name):
            assert value == "" or value.startswith("change-me"), f"{name} has a value in .env.example"


def test_env_file_and_placeholders(tmp_path: Path) -> None:
    """.env parsing; a copy of .env.example with its change-me placeholders is refused."""
    env_file = tmp_path / ".env"
    env_file.write_text('# comment\nexport A="x y"\nB=\nC=\'q\'\n', encoding="utf-8")
    assert read_env_file(env_file) == {"A": "x y", "B": "", "C": "q"}
    assert {"DB_PASSWORD", "REDIS_PASSWORD", "STAFF_TOKEN"} <= set(placeholder_secrets(example()))
    assert placeholder_secrets({"DB_PASSWORD": "s3cret", "STAFF_TOKEN": ""}) == []


def test_layout_from_the_environment(tmp_path: Path) -> None:
    """Defaults of run-prod, and URLs built from DB_*/REDIS_* (passwords quoted)."""
    config = get_cluster_settings({}, run_dir=tmp_path)
    assert (config.nginx_port, config.rasa_ports, config.action_ports, config.db_port, config.redis_port) == (
        8088, (5006, 5007), (5056, 5057), 5433, 6380)
    assert config.local_db and config.local_redis
    config = get_cluster_settings({"DB_HOST": "db", "DB_PASSWORD": "p@ss/word", "REDIS_HOST": "r",
                                  "REDIS_PASSWORD": "x:y", "RASA_PORTS": "7001 7002"}, run_dir=tmp_path)
    assert config.tracker_db_url == "postgresql://rasa:p%40ss%2Fword@db:5433/rasa"
    assert config.wechat_redis_url == "redis://:x%3Ay@r:6380/0"
    assert config.rasa_ports == (7001, 7002) and not config.local_db
    with pytest.raises(ValueError):
        get_cluster_settings({"RASA_PORTS": "7001"}, run_dir=tmp_path)


def test_docs_describe_every_variable() -> None:
    """docs/production.md names every variable of .env.example."""
    docs = (ROOT / "docs" / "production.md").read_text(encoding="utf-8")
    missing = sorted(name for name in example() if f"`{name}`" not in docs)
    assert not missing, f"docs/production.md does not describe {missing}"


def test_endpoints_prod_reads_everything_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rasa reads endpoints.prod.yml with the ${VAR} values; a missing variable stops it."""
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.exceptions import RasaException

    values = {"ACTION_SERVER_URL": "http://actions:5055/webhook", "DB_HOST": "db.internal", "DB_PORT": "5432",
              "DB_NAME": "rasa", "DB_USER": "rasa", "DB_PASSWORD": "pw", "REDIS_HOST": "redis.internal",
              "REDIS_PORT": "6379", "REDIS_PASSWORD": "", "REDIS_LOCK_DB": "1", "REDIS_KEY_PREFIX": ""}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.prod.yml"))
    assert endpoints.action.url == "http://actions:5055/webhook"
    assert endpoints.tracker_store.type == "rasa_stores.tracker_store.ResilientSQLTrackerStore"
    assert endpoints.tracker_store.kwargs["dialect"] == "postgresql"
    assert endpoints.tracker_store.url == "db.internal" and endpoints.tracker_store.kwargs["password"] == "pw"
    assert endpoints.lock_store.type == "rasa_stores.lock_store.AtomicRedisLockStore"
    assert endpoints.lock_store.url == "redis.internal"
    monkeypatch.delenv("DB_PASSWORD")
    with pytest.raises(RasaException):
        AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.prod.yml"))


def test_production_credentials_keep_the_channels() -> None:
    """deploy/credentials.prod.yml serves the channels of credentials.yml with their options, plus the guard."""
    default = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    prod = yaml.safe_load((ROOT / "deploy" / "credentials.prod.yml").read_text(encoding="utf-8"))
    for channel, options in default.items():
        assert channel in prod, f"{channel} of credentials.yml is missing in deploy/credentials.prod.yml"
        for key, value in (options or {}).items():
            assert (prod[channel] or {}).get(key) == value, (channel, key)
    assert "rasa_runtime.readiness.ReadinessChannel" in prod
    assert prod["connectors.socketio.SafeSocketIOInput"]["jwt_key"] == "${SOCKETIO_JWT_SECRET}"


def test_compose_has_the_layout() -> None:
    """2 Rasa replicas, 2 action servers, web, PostgreSQL, Redis, nginx; only nginx is published."""
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"rasa-1", "rasa-2", "actions-1", "actions-2", "web", "postgres", "redis", "nginx"} <= set(services)
    published = sorted(name for name, service in services.items() if service.get("ports"))
    assert published == ["nginx"]
    for name in ("rasa-1", "rasa-2"):
        command = " ".join(services[name]["command"])
        assert "endpoints.prod.yml" in command and "deploy/credentials.prod.yml" in command
        assert "--auth-token" not in command and "--enable-api" not in command  # added by scripts.rasa_prod
    used = set(VAR.findall(COMPOSE.read_text(encoding="utf-8"))) - COMPOSE_ONLY
    assert not sorted(used - set(example())), sorted(used - set(example()))


def test_docker_compose_config_validates(tmp_path: Path) -> None:
    """`docker compose config` accepts the file (when the docker CLI has the compose plugin)."""
    docker = shutil.which("docker")
    if not docker or subprocess.run([docker, "compose", "version"], capture_output=True, check=False).returncode != 0:
        pytest.skip("the docker CLI with the compose plugin is not installed")
    env = dict(os.environ, DB_PASSWORD="x", REDIS_PASSWORD="x", CORS_ORIGINS="https://example.org", STAFF_TOKEN="x")
    result = subprocess.run([docker, "compose", "-f", str(COMPOSE), "config", "--quiet"], capture_output=True,
                            text=True, env=env, cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stderr


def test_rendered_nginx_configuration_is_valid(tmp_path: Path) -> None:
    """The template, rendered as for docker-compose but with local addresses, passes `nginx -t`."""
    nginx = Binaries.find(get_cluster_settings({}, run_dir=Path('/tmp')).pg_bin).nginx
    if not nginx:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed")
        pytest.skip("nginx is not installed (apt-get install -y nginx)")
    (tmp_path / "tmp").mkdir()
    text = render_nginx(NGINX_TEMPLATE.read_text(encoding="utf-8"), listen="127.0.0.1:18088",
                        actions_listen="127.0.0.1:15058", rasa_servers=["127.0.0.1:15005", "127.0.0.1:15006"],
                        action_servers=["127.0.0.1:15055", "127.0.0.1:15056"], web_server="127.0.0.1:18080",
                        run_dir=str(tmp_path), access_log=str(tmp_path / "access.log"),
                        error_log=str(tmp_path / "error.log"), temp_dir=str(tmp_path / "tmp"),
                        cors_origins=["https://example.org"])
    directives = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    assert "{{" not in text
    assert not re.search(r"\$request\b|\$request_uri|\$args|\$query_string|\$request_body", directives)
    conf = tmp_path / "nginx.conf"
    conf.write_text(text, encoding="utf-8")
    result = subprocess.run([nginx, "-t", "-q", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    broken = tmp_path / "broken.conf"  # the same check refuses a misspelt directive
    broken.write_text(text.replace("proxy_pass ", "proxy_passs ", 1), encoding="utf-8")
    assert broken.read_text(encoding="utf-8") != text
    result = subprocess.run([nginx, "-t", "-q", "-p", str(tmp_path), "-c", str(broken), "-e", str(tmp_path / "error.log")],
                            capture_output=True, text=True, check=False)
    assert result.returncode != 0 and "proxy_passs" in result.stderr, result.stderr


def test_make_help_lists_the_targets() -> None:
    """mk/prod.mk's targets appear in `make help`."""
    result = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    for target in ("run-prod", "test-prod"):
        assert target in result.stdout, result.stdout
