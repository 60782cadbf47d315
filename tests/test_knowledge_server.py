"""The shared-index alternative: the same retriever against chromadb's HTTP server (`chroma run`)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from knowledge.embeddings import load_embedder
from knowledge.retrieve import open_retriever

DOC = """# OPS-03 Yard rules

## 1. Truck parking
Trucks wait in lane B of the yard until the dock office calls them in by radio.

## 2. Speed limit
The speed limit in the yard is 10 km/h for every vehicle, forklifts included.
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chroma_executable() -> str | None:
    beside_python = Path(sys.executable).with_name("chroma")
    return str(beside_python) if beside_python.exists() else shutil.which("chroma")


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    """`chroma run` in a subprocess; skipped only if the server cannot start here."""
    executable = _chroma_executable()
    if executable is None:
        pytest.skip("the chroma command is not installed")
    port = _free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    log = (folder / "server.log").open("wb")
    env = os.environ | {"ANONYMIZED_TELEMETRY": "False"}
    process = subprocess.Popen(
        [executable, "run", "--path", str(folder / "data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.skip(
                        f"chroma run did not start: {(folder / 'server.log').read_text()[-500:]}"
                    )
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_a_shared_index_on_the_chroma_server_serves_every_client(chroma_url, tmp_path):
    load_embedder()
    folder = tmp_path / "sops"
    folder.mkdir()
    (folder / "yard.md").write_text(DOC)

    writer = open_retriever(url=chroma_url, collection="sops-shared")
    report = writer.index(folder)
    assert report.added == ["yard.md"] and report.chunks_embedded == 2

    reader = open_retriever(
        url=chroma_url, collection="sops-shared"
    )  # another client, e.g. a colleague
    [top] = reader.search("how fast may I drive in the yard", k=1)
    assert (top.doc_id, top.section_no, top.section) == ("OPS-03", "2", "Speed limit")
    assert reader.index(folder).chunks_embedded == 0  # same content: nothing to do

    (folder / "yard.md").write_text(DOC.replace("10 km/h", "6 km/h"))
    assert writer.index(folder).updated == ["yard.md"]
    [top] = reader.search("yard speed limit", k=1)  # the reader's keyword cache follows the change
    assert "6 km/h" in top.text and reader.count() == 2
