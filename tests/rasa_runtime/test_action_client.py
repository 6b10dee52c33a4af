"""rasa_runtime.action_client: Rasa's endpoint request on kept connections, same results as Rasa's own."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Awaitable, Callable, Dict, Iterator, List

import aiohttp
import pytest
from aiohttp import web
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from rasa_runtime import action_client
from tests.local_http import with_app


class Recorder:
    """A small HTTP server standing in for the action server; it records each request's connection."""

    def __init__(self) -> None:
        self.ports: List[int] = []  # client port of every request (one port per TCP connection)
        self.drop_reused = False  # close a connection, without answering, when it brings a second request
        self.served: Dict[Any, int] = {}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Echo the call: body, query, headers; or fail as the path asks."""
        transport = request.transport
        port = transport.get_extra_info("peername")[1]
        self.ports.append(port)
        self.served[transport] = self.served.get(transport, 0) + 1
        if self.drop_reused and self.served[transport] > 1:
            transport.close()
            return web.Response(status=200)  # never arrives: the connection is gone
        if request.path == "/missing":
            return web.Response(status=404, text="no such action")
        if request.path == "/text":
            return web.Response(text="plain text")
        body = await request.json()
        return web.json_response({"body": body, "query": dict(request.query),
                                  "auth": request.headers.get("Authorization"),
                                  "custom": request.headers.get("X-Custom")})


async def with_server(recorder: Recorder, body: Callable[[str], Awaitable[Any]]) -> Any:
    """Run body(base_url) against the recorder; close the kept sessions before the server stops."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder.handle)

    async def then_close(url: str) -> Any:
        try:
            return await body(url)
        finally:
            await action_client.close_sessions()

    return await with_app(app, then_close)


@pytest.fixture
def installed() -> Iterator[None]:
    """The kept-connection request installed for one test, Rasa's restored afterwards."""
    original = EndpointConfig.request
    assert action_client.install()
    try:
        yield
    finally:
        action_client.uninstall()
        assert EndpointConfig.request == original


PAYLOAD = {"next_action": "action_answer_policy_question", "sender_id": "用户-1",
           "tracker": {"latest_message": {"text": "专利质押贷款有贴息吗？😀 a/b", "confidence": 0.9888262748718262,
                                          "ranking": [0.1, 1e-07, 3.0]}, "slots": {"region": None, "n": 12}}}


def endpoint(url: str) -> EndpointConfig:
    """An action endpoint with every option Rasa's request uses."""
    return EndpointConfig(url=url + "/webhook", params={"a": "1"}, headers={"X-Custom": "yes"},
                          basic_auth={"username": "u", "password": "p"}, token="secret")


def test_replies_equal_rasas_own_request() -> None:
    """Same URL, parameters, token, headers, basic auth and JSON body arrive; same result comes back."""

    async def both(url: str) -> tuple:
        stock = await endpoint(url).request(json=PAYLOAD, method="post", timeout=10)
        action_client.install()
        try:
            ours = await endpoint(url).request(json=PAYLOAD, method="post", timeout=10)
        finally:
            action_client.uninstall()
        return stock, ours

    stock, ours = asyncio.run(with_server(Recorder(), both))
    assert ours == stock
    assert ours["body"] == json.loads(json.dumps(PAYLOAD))
    assert ours["query"] == {"a": "1", "token": "secret"}
    assert ours["custom"] == "yes" and ours["auth"].startswith("Basic ")


def test_one_connection_serves_many_calls(installed: None) -> None:
    """Five calls in a row use one TCP connection (Rasa's own request opens five)."""
    recorder = Recorder()

    async def calls(url: str) -> None:
        for _ in range(5):
            assert (await endpoint(url).request(json=PAYLOAD))["body"]["sender_id"] == "用户-1"

    asyncio.run(with_server(recorder, calls))
    assert len(recorder.ports) == 5
    assert len(set(recorder.ports)) == 1


def test_errors_and_non_json_replies_as_rasa(installed: None) -> None:
    """A 404 raises Rasa's ClientResponseError with the status; a text reply gives None."""

    async def calls(url: str) -> Any:
        with pytest.raises(ClientResponseError) as error:
            await EndpointConfig(url=url + "/missing").request(json={})
        assert error.value.status == 404
        return await EndpointConfig(url=url + "/text").request(json={})

    assert asyncio.run(with_server(Recorder(), calls)) is None


def test_a_dropped_kept_connection_is_retried_once_on_a_new_one(installed: None) -> None:
    """The server closes a reused connection without answering: the call succeeds on a new connection."""
    recorder = Recorder()
    recorder.drop_reused = True

    async def calls(url: str) -> List[Any]:
        return [await endpoint(url).request(json=PAYLOAD) for _ in range(3)]

    replies = asyncio.run(with_server(recorder, calls))
    assert [reply["body"]["sender_id"] for reply in replies] == ["用户-1"] * 3
    assert len(set(recorder.ports)) == 3  # each drop moved the next call to a fresh connection


def test_a_server_that_is_gone_still_fails(installed: None) -> None:
    """Nothing listening: the error reaches Rasa (and the action guard answers the user)."""

    async def call() -> None:
        with pytest.raises(aiohttp.ClientError):
            await EndpointConfig(url="http://127.0.0.1:9/webhook").request(json={})
        await action_client.close_sessions()

    asyncio.run(call())


def test_bodies_fall_back_to_the_standard_library() -> None:
    """ujson for plain JSON; what it refuses goes to json.dumps, so errors are the ones Rasa gave."""
    assert json.loads(action_client.dumps(PAYLOAD)) == PAYLOAD
    with pytest.raises(TypeError, match="Object of type set is not JSON serializable"):
        action_client.dumps({"slots": {"tags": {1, 2}}})


def test_install_is_idempotent(installed: None) -> None:
    """A second install changes nothing."""
    assert action_client.install() is False
