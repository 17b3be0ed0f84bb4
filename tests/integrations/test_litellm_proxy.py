"""The real LiteLLM proxy, started on 127.0.0.1 with a config naming the guardrail, upstream the stub platform.

Skipped unless the proxy's own dependencies are installed (`.ci/extras/litellm.sh` installs them);
the proxy takes tens of seconds to start, so it starts once for this module.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The proxy's dependencies (litellm[proxy]); looked up, not imported: importing the proxy takes seconds.
_PROXY_MODULES = ("litellm", "fastapi", "uvicorn", "multipart", "websockets", "apscheduler", "backoff", "orjson", "jwt")
_MISSING = [name for name in _PROXY_MODULES if importlib.util.find_spec(name) is None]
if _MISSING:
    pytest.skip(f"the LiteLLM proxy's dependencies are not installed: {', '.join(_MISSING)}", allow_module_level=True)

STARTUP_SECONDS = 240
MASTER_KEY = "sk-proxy-master"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _post(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "authorization": f"Bearer {MASTER_KEY}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # only 127.0.0.1
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory, module_stub: Any) -> Iterator[tuple[str, Any]]:
    stub = module_stub
    folder: Path = tmp_path_factory.mktemp("proxy")
    config = folder / "config.yaml"
    config.write_text(
        f"""
model_list:
  - model_name: house-dalle
    litellm_params:
      model: openai/dall-e-3
      api_base: {stub.url}/v1
      api_key: sk-upstream
guardrails:
  - guardrail_name: imagepricing
    litellm_params:
      guardrail: imagepricing.integrations.litellm.ImagePricingGuardrail
      mode: pre_call
      default_on: true
      provider: xhuoapi
general_settings:
  master_key: {MASTER_KEY}
""",
        encoding="utf-8",
    )
    port = _free_port()
    env = {
        **os.environ,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch of the cost map from the internet
        "LITELLM_TELEMETRY": "False",
        "DISABLE_SCHEMA_UPDATE": "True",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    log = (folder / "proxy.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "litellm.proxy.proxy_cli",
            "--config",
            str(config),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--num_workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=folder,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health/liveliness", timeout=5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    tail = (folder / "proxy.log").read_text(errors="replace")[-3000:]
                    pytest.fail(f"the LiteLLM proxy did not start:\n{tail}")
                time.sleep(1)
        yield base, stub
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        log.close()


def test_the_proxy_rejects_with_400_and_never_calls_upstream(proxy: tuple[str, Any]) -> None:
    base, stub = proxy
    status, answer = _post(f"{base}/v1/images/generations", {"model": "house-dalle", "prompt": "a fox", "n": 2})
    assert status == 400, answer
    assert "above_model_limit" in json.dumps(answer)
    assert [r for r in stub.requests if "/images/" in r.path] == []


def test_the_proxy_forwards_an_accepted_request(proxy: tuple[str, Any]) -> None:
    base, stub = proxy
    status, answer = _post(f"{base}/v1/images/generations", {"model": "house-dalle", "prompt": "a fox", "n": 1})
    assert status == 200, answer
    assert answer["data"][0]["url"] == "https://cdn.example.invalid/fox.png"
    sent = [r for r in stub.requests if r.path.endswith("/images/generations")]
    assert len(sent) == 1
    assert json.loads(sent[0].body)["model"] == "dall-e-3"
