"""Check a running WeChat channel like WeChat would (signed GET, then a signed text message)."""

from __future__ import annotations

import argparse
import logging
import sys
import time
import uuid
from typing import Dict, List, Optional

import requests
import xmltodict
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from connectors.wechat.config import load_settings

logger = logging.getLogger(__name__)


def _signed(token: str) -> Dict[str, str]:
    """Return signature/timestamp/nonce query parameters."""
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce)
    return {"signature": signer.signature, "timestamp": timestamp, "nonce": nonce}


def main(argv: Optional[List[str]] = None) -> int:
    """Run the checks; exit status 0 when the channel answers correctly."""
    try:
        return _run(argv)
    except requests.RequestException as exc:
        print(f"cannot reach the Rasa server: {type(exc).__name__}", file=sys.stderr)
        return 1


def _run(argv: Optional[List[str]]) -> int:
    """Parse arguments, then probe verification and one text message."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://localhost:5005", help="Rasa server base URL")
    parser.add_argument("--text", default="专利质押融资有什么支持", help="question to send")
    parser.add_argument("--safe", action="store_true", help="use safe mode (encrypt_type=aes)")
    args = parser.parse_args(argv)

    s = load_settings()
    if not s.wechat_token:
        print("WECHAT_TOKEN is not set", file=sys.stderr)
        return 2
    hook = args.url.rstrip("/") + "/webhooks/wechat/webhook"

    params = _signed(s.wechat_token)
    echo = uuid.uuid4().hex
    resp = requests.get(hook, params={**params, "echostr": echo}, timeout=10)
    print(
        f"verification GET: HTTP {resp.status_code}, echo {'ok' if resp.text == echo else 'WRONG'}"
    )
    if resp.text != echo:
        return 1

    params = _signed(s.wechat_token)
    xml = (
        "<xml><ToUserName><![CDATA[gh_selftest]]></ToUserName>"
        f"<FromUserName><![CDATA[selftest-{uuid.uuid4().hex[:8]}]]></FromUserName>"
        f"<CreateTime>{params['timestamp']}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{args.text}]]></Content><MsgId>{int(time.time() * 1000)}</MsgId></xml>"
    )
    crypto = None
    if args.safe:
        crypto = WeChatCrypto(s.wechat_token, s.wechat_encoding_aes_key, s.wechat_app_id)
        enc = xmltodict.parse(crypto.encrypt_message(xml, params["nonce"], params["timestamp"]))
        xml = f"<xml><Encrypt><![CDATA[{enc['xml']['Encrypt']}]]></Encrypt></xml>"
        params.update(encrypt_type="aes", msg_signature=enc["xml"]["MsgSignature"])
    started = time.time()
    resp = requests.post(hook, params=params, data=xml.encode("utf-8"), timeout=10)
    elapsed = time.time() - started
    print(f"text POST: HTTP {resp.status_code} in {elapsed:.2f}s")
    if resp.status_code != 200:
        return 1
    body = resp.text
    if crypto is not None:
        outer = xmltodict.parse(body)["xml"]
        body = crypto.decrypt_message(
            body, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"]
        )
    print(parse_message(body).content)
    return 0 if elapsed < 5.0 else 1


if __name__ == "__main__":
    sys.exit(main())
