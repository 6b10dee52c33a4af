"""The production layout for tests: PostgreSQL, Redis, 2 action servers, 2 Rasa replicas, web, nginx.

Everything runs from the installed binaries on free ports in a temporary folder (removed at the
end). Without the binaries the tests are skipped with the reason, unless CI is set: then they fail.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.cluster.binaries import Binaries
from devstack.cluster.cluster import Cluster
from devstack.local import TEST_WECHAT
from devstack.processes import MODEL, distinct_free_ports
from settings import ClusterSettings, get_cluster_settings
from tests.prod.helpers import RESTARTING


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    """Disruptive tests (a replica killed, restarted in the background) run last."""
    items.sort(key=lambda item: item.get_closest_marker("disruptive") is not None)


@pytest.fixture(autouse=True)
def _restarted_parts_ready(request: pytest.FixtureRequest) -> None:
    """Before a test that uses the cluster, wait for parts an earlier test restarted."""
    if "cluster" not in request.fixturenames or not RESTARTING:
        return
    running = request.getfixturevalue("cluster")
    for name in sorted(RESTARTING):
        running.wait_ready(name)
    RESTARTING.clear()


@pytest.fixture(scope="session")
def prod_binaries() -> Binaries:
    """nginx, postgres/initdb and redis-server, or a skip (a failure when CI is set)."""
    binaries = Binaries.find(get_cluster_settings(os.environ, run_dir=Path(tempfile.gettempdir())).pg_bin)
    missing = binaries.missing()
    if missing:
        reason = (f"production tests need {', '.join(missing)} "
                  "(apt-get install -y nginx postgresql redis-server, or `make system-deps`)")
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI is set, so this is an error, not a skip")
        pytest.skip(reason)
    return binaries


@pytest.fixture(scope="session")
def prod_config() -> ClusterSettings:
    """Free ports, passwords on PostgreSQL and Redis, a temporary folder."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    run_dir = Path(tempfile.mkdtemp(prefix="ipa-prod-test-"))
    (nginx, rasa_a, rasa_b, act_a, act_b, act_lb, web, db, redis_port) = distinct_free_ports(9)
    config = ClusterSettings(
        run_dir=run_dir, data_dir=run_dir, ephemeral=True, nginx_host="127.0.0.1", nginx_port=nginx,
        rasa_ports=(rasa_a, rasa_b), action_ports=(act_a, act_b), actions_lb_port=act_lb, web_port=web,
        db_port=db, db_password="db-" + secrets.token_urlsafe(12),
        redis_port=redis_port, redis_password="redis-" + secrets.token_urlsafe(12),
    )
    config.cors_origins = config.public_origins
    return config


@pytest.fixture(scope="session")
def cluster(prod_binaries: Binaries, prod_config: ClusterSettings) -> Iterator[Cluster]:
    """The running production layout (started once per session; a few minutes)."""
    env = dict(os.environ)
    env.update({
        "RASA_AUTH_TOKEN": "rasa-" + secrets.token_urlsafe(16),
        "SOCKETIO_JWT_SECRET": "jwt-" + secrets.token_urlsafe(24),
        "STAFF_TOKEN": "staff-" + secrets.token_urlsafe(12),
        "WECHAT_TOKEN": TEST_WECHAT["token"],
        "WECHAT_APP_ID": TEST_WECHAT["app_id"],
        "WECHAT_APP_SECRET": TEST_WECHAT["app_secret"],
        "WECHAT_ENCODING_AES_KEY": TEST_WECHAT["encoding_aes_key"],
        "WECHAT_API_BASE": "http://127.0.0.1:9",  # nothing listens: late answers stay for “更多”
    })
    for name in ("DB_HOST", "REDIS_HOST", "REDIS_URL", "TRACKER_DB_URL", "CORS_ORIGINS", "KB_DIR"):
        env.pop(name, None)
    running = Cluster(prod_config, env, prod_binaries).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def secrets_of(cluster: Cluster) -> dict:
    """The secret values the cluster was started with (for log checks)."""
    c = cluster.config
    return {
        "RASA_AUTH_TOKEN": cluster.env["RASA_AUTH_TOKEN"],
        "SOCKETIO_JWT_SECRET": cluster.env["SOCKETIO_JWT_SECRET"],
        "STAFF_TOKEN": cluster.env["STAFF_TOKEN"],
        "DB_PASSWORD": c.db_password,
        "REDIS_PASSWORD": c.redis_password,
        "WECHAT_TOKEN": TEST_WECHAT["token"],
        "WECHAT_APP_SECRET": TEST_WECHAT["app_secret"],
        "WECHAT_ENCODING_AES_KEY": TEST_WECHAT["encoding_aes_key"],
    }

