"""`stockpilot mcp` driven by the official MCP SDK's own client, over stdio and streamable HTTP:
list the tools, call one, read an SOP, and a bad argument comes back as an error naming it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tools.registry import agent_tools, load_tools

STOCKPILOT = str(Path(sys.executable).parent / "stockpilot")
KEY = "mcp-test-key"


def run_in_own_loop(main):
    """The SDK client's event loop, in a thread of its own: a browser test's Playwright loop
    may still be registered on the main thread when this module runs after it."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, main).result()


@pytest.fixture
def workspace(sample_db, tmp_path) -> dict[str, str]:
    """Environment for a server on a private copy of the sample data (no SOP index needed)."""
    shutil.copyfile(sample_db.db_path, tmp_path / "stockpilot.duckdb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOCKPILOT_")}
    env |= {"STOCKPILOT_DATA_DIR": str(tmp_path), "STOCKPILOT_API_KEY": KEY}
    return env


async def exercise(session: ClientSession) -> dict:
    """What every transport must do; returns the answers for the assertions."""
    await session.initialize()
    tools = (await session.list_tools()).tools
    ok = await session.call_tool("stockout_risk", {"horizon_days": 7, "limit": 3})
    bad = await session.call_tool("forecast_demand", {"sku": "SKU-00001", "horizon_days": "lots"})
    batch = await session.call_tool("run_forecasts", {})
    resources = (await session.list_resources()).resources
    sop = await session.read_resource("sop://sop-04-purchase-order-approval.md")
    return {
        "tools": tools,
        "ok": ok,
        "bad": bad,
        "batch": batch,
        "resources": resources,
        "sop": sop,
    }


def check(answers: dict) -> None:
    tools = {t.name: t for t in answers["tools"]}
    expected = {spec.name: spec for spec in agent_tools()}
    assert set(tools) == set(expected)  # every agent tool, and no batch job that writes
    assert "run_forecasts" not in tools and "scan_anomalies" not in tools
    spec = expected["stockout_risk"]
    assert tools["stockout_risk"].description == spec.summary
    assert tools["stockout_risk"].input_schema == spec.json_schema()["function"]["parameters"]
    assert tools["stockout_risk"].annotations.read_only_hint is True

    ok = answers["ok"]
    assert not ok.is_error
    assert ok.structured_content["horizon_days"] == 7
    assert len(ok.structured_content["items"]) <= 3
    assert "SKU-" in ok.content[0].text

    bad = answers["bad"]
    assert bad.is_error
    assert bad.content[0].text.startswith("ERROR forecast_demand: invalid arguments: horizon_days:")
    assert "'lots'" in bad.content[0].text

    assert answers["batch"].is_error
    assert "batch job that writes" in answers["batch"].content[0].text

    uris = {r.uri for r in answers["resources"]}
    assert "sop://sop-04-purchase-order-approval.md" in uris
    assert len(uris) >= 15
    text = answers["sop"].contents[0].text
    assert "Purchase" in text and "approv" in text


def test_the_agent_tools_are_offered_with_their_registry_schema():
    from assistant.mcp_server import tool_definition

    spec = load_tools()["forecast_demand"]
    tool = tool_definition(spec)
    assert tool.input_schema["required"] == ["sku"]
    assert tool.input_schema["additionalProperties"] is False
    assert tool.description == spec.summary


def test_stdio_with_the_sdk_client(workspace):
    params = StdioServerParameters(command=STOCKPILOT, args=["mcp"], env=workspace)

    async def main():
        async with (
            stdio_client(params) as (read, write),
            ClientSession(read, write) as session,
        ):
            return await exercise(session)

    check(run_in_own_loop(main))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def http_server(workspace, tmp_path):
    port = _free_port()
    log = open(tmp_path / "mcp.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [STOCKPILOT, "mcp", "--transport", "http", "--port", str(port)],
        env=workspace,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, (tmp_path / "mcp.log").read_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    yield f"http://127.0.0.1:{port}/mcp"
    process.terminate()
    process.wait(10)
    log.close()


def test_streamable_http_with_the_sdk_client_and_the_api_key(http_server):
    async def main():
        client = create_mcp_http_client(headers={"Authorization": f"Bearer {KEY}"})
        async with (
            client,
            streamable_http_client(http_server, http_client=client) as (read, write),
            ClientSession(read, write) as session,
        ):
            return await exercise(session)

    check(run_in_own_loop(main))


def test_streamable_http_refuses_a_wrong_key(http_server):
    import httpx

    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = httpx.post(
            http_server,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={**headers, "Accept": "application/json, text/event-stream"},
        )
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "Incorrect API key provided."


def test_an_empty_api_key_refuses_to_serve_http_as_the_api_does(tmp_path):
    from assistant.api import ConfigurationError
    from assistant.mcp_server import build_server, http_app
    from assistant.settings import load_settings
    from tools.registry import ToolContext

    server = build_server(ToolContext(store=None), tmp_path)
    with pytest.raises(ConfigurationError, match="api_key"):
        http_app(server, load_settings(data_dir=tmp_path, api_key=" "), "127.0.0.1")
