"""Security of the production layout: HTTP API, CORS, size and rate limits, logs, command lines."""

from __future__ import annotations

import os
import stat
import time
import uuid
from pathlib import Path

import pytest
import requests
from wechatpy.utils import WeChatSigner

from devstack.cluster.cluster import Cluster
from devstack.local import TEST_WECHAT
from scripts.rasa_prod import rasa_argv
from settings import get_cluster_settings
from tests.prod.helpers import QUESTION, measure_ids, say

pytestmark = pytest.mark.prod


def test_rasa_http_api_is_off_without_a_token() -> None:
    """No RASA_AUTH_TOKEN: `rasa run` gets no --enable-api; asking for it without a token is refused."""
    assert "--enable-api" not in rasa_argv(["run", "--port", "5006"], "")
    assert rasa_argv(["run"], "t0k")[-3:] == ["--enable-api", "--auth-token", "t0k"]
    with pytest.raises(SystemExit):
        rasa_argv(["run", "--enable-api"], "")


def test_rasa_http_api_needs_the_token(cluster: Cluster) -> None:
    """With RASA_AUTH_TOKEN the API is on, on the replica ports only, and every call needs the token."""
    token = cluster.env["RASA_AUTH_TOKEN"]
    replica = cluster.rasa_url(0)
    assert requests.get(f"{replica}/status", timeout=10).status_code == 401
    assert requests.get(f"{replica}/conversations/x/tracker", timeout=10).status_code == 401
    assert requests.get(f"{replica}/status", params={"token": "wrong"}, timeout=10).status_code == 401
    assert requests.get(f"{replica}/status", params={"token": token}, timeout=10).status_code == 200


@pytest.mark.parametrize("path", ["/status", "/version", "/model/parse", "/conversations/x/tracker",
                                  "/domain", "/webhooks/guard/", "/webhooks/socketio/"])
def test_nginx_does_not_expose_rasa_api_or_internal_channels(cluster: Cluster, path: str) -> None:
    """The public port serves only the chat channels and the web app."""
    assert requests.get(f"{cluster.nginx_url}{path}", timeout=10).status_code == 404


def test_cors_is_an_allow_list(cluster: Cluster) -> None:
    """Allowed origins get Access-Control-Allow-Origin from Rasa; others get none, and 403 from nginx."""
    allowed = cluster.config.public_origins[0]
    body = {"sender": f"cors-{uuid.uuid4().hex[:8]}", "message": "你好"}
    ok = requests.post(f"{cluster.rasa_url(0)}/webhooks/rest/webhook", json=body, headers={"Origin": allowed}, timeout=30)
    assert ok.headers.get("Access-Control-Allow-Origin") == allowed
    other = requests.post(f"{cluster.rasa_url(0)}/webhooks/rest/webhook", json=body,
                          headers={"Origin": "https://evil.example"}, timeout=30)
    assert other.headers.get("Access-Control-Allow-Origin") is None
    assert requests.post(f"{cluster.nginx_url}/webhooks/rest/webhook", json=body,
                         headers={"Origin": "https://evil.example"}, timeout=30).status_code == 403
    conf = (cluster.config.run_dir / "nginx" / "nginx.conf").read_text(encoding="utf-8")
    assert '"*"' not in conf and "Access-Control-Allow-Origin *" not in conf


def test_wildcard_cors_is_refused(tmp_path: Path) -> None:
    """CORS_ORIGINS='*' stops run-prod before anything starts."""
    config = get_cluster_settings({"CORS_ORIGINS": "*"}, run_dir=tmp_path)
    assert any("CORS_ORIGINS" in problem for problem in config.check())
    assert get_cluster_settings({}, run_dir=tmp_path).check() == []


@pytest.mark.parametrize("path", ["/webhooks/rest/webhook", "/webhooks/wechat/webhook", "/socket.io/?EIO=4&transport=polling"])
def test_nginx_limits_request_bodies(cluster: Cluster, path: str) -> None:
    """Bodies above NGINX_MAX_BODY (64k) are refused with 413 before they reach a replica."""
    response = requests.post(f"{cluster.nginx_url}{path}", data=b"x" * 200_000,
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 413


def test_sanic_limits_request_bodies_behind_nginx(cluster: Cluster) -> None:
    """A replica reached directly refuses bodies above SANIC_REQUEST_MAX_SIZE (1 MB) itself."""
    try:
        response = requests.post(f"{cluster.rasa_url(0)}/webhooks/rest/webhook", data=b"x" * 2_000_000,
                                 headers={"Content-Type": "application/json"}, timeout=30)
        assert response.status_code == 413
    except requests.ConnectionError:
        pass  # Sanic may close the connection while the client is still sending: also a refusal
    assert say(cluster.rasa_url(0), f"size-{uuid.uuid4().hex[:8]}", "你好")  # still serving


def test_rate_limit_per_client_ip(cluster: Cluster) -> None:
    """Beyond NGINX_CHAT_BURST quick requests from one IP, nginx answers 429 (cheap 400s here)."""
    codes = [requests.post(f"{cluster.nginx_url}/webhooks/rest/webhook", json=[], timeout=10).status_code
             for _ in range(cluster.config.chat_burst + 15)]
    assert 429 in codes and 400 in codes, codes
    time.sleep(4)  # let the bucket refill for the other tests


def _wechat_post(cluster: Cluster, openid: str, content: str) -> requests.Response:
    """A signed plaintext WeChat text message through nginx."""
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    signer = WeChatSigner()
    signer.add_data(TEST_WECHAT["token"], timestamp, nonce)
    xml = (f"<xml><ToUserName><![CDATA[gh_prod]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
           f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
           f"<Content><![CDATA[{content}]]></Content><MsgId>{int(time.time() * 1000)}</MsgId></xml>")
    params = {"signature": signer.signature, "timestamp": timestamp, "nonce": nonce, "openid": openid}
    return requests.post(f"{cluster.nginx_url}/webhooks/wechat/webhook", params=params,
                         data=xml.encode("utf-8"), timeout=10)


def test_logs_hold_no_secrets_and_no_payloads(cluster: Cluster, secrets_of: dict) -> None:
    """After chat turns on every channel, no log holds a secret, a WeChat openid/signature or a message."""
    marker = f"日志检查{uuid.uuid4().hex[:6]}"
    openid = "o" + uuid.uuid4().hex[:27]
    response = _wechat_post(cluster, openid, f"{QUESTION}{marker}")
    assert response.status_code == 200 and "<xml>" in response.text
    signature = response.request.url.split("signature=")[1].split("&")[0]
    assert measure_ids(say(cluster.nginx_url, f"logs-{uuid.uuid4().hex[:8]}", f"{QUESTION}{marker}"))
    time.sleep(1)
    forbidden = {**secrets_of, "openid": openid, "signature": signature, "message": marker}
    for path in sorted(cluster.log_dir.glob("*.log")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for name, value in forbidden.items():
            assert value not in text, f"{name} appears in {path.name}"


def test_secrets_stay_off_command_lines_and_files(cluster: Cluster, secrets_of: dict) -> None:
    """ps shows no token or password; the Redis config holding its password is private."""
    for name, proc in cluster.procs.items():
        if proc.poll() is not None:
            continue
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode("utf-8", "replace")
        for secret_name, value in secrets_of.items():
            assert value not in cmdline, f"{secret_name} on the command line of {name}"
    mode = stat.S_IMODE(os.stat(cluster.config.run_dir / "redis.conf").st_mode)
    assert mode == 0o600
