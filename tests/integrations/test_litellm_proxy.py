"""The real LiteLLM proxy, started on 127.0.0.1 with a config naming the guardrail, upstream the stub platform.

Skipped unless the proxy's own dependencies are installed (the `litellm` extra; `.ci/extras/litellm.sh`
installs it); the proxy takes tens of seconds to start, so it starts once for this module. Its config
sets every guardrail option in config.yaml (`provider`, `model_map`, `url_policy`, `on_reject`,
`as_of`), and each test sees the option's effect through the proxy: the options reach the constructor.
Two guardrails, both on by default: `imagepricing` with provider, model_map, url_policy and as_of set,
and `imagepricing-warn` with `on_reject: warn` and nothing else.
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


def _post(
    url: str, body: dict[str, Any] | bytes, content_type: str = "application/json", key: str = MASTER_KEY
) -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        data=body if isinstance(body, bytes) else json.dumps(body).encode(),
        headers={"content-type": content_type, "authorization": f"Bearer {key}"},
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
  - model_name: house-images
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
      model_map: {{house-images: gpt-image-2}}
      url_policy: strict
      as_of: 2026-05-01
  - guardrail_name: imagepricing-warn
    litellm_params:
      guardrail: imagepricing.integrations.litellm.ImagePricingGuardrail
      mode: pre_call
      default_on: true
      on_reject: warn
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


def _multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = "imagepricing-proxy-test"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for name, filename, data in files:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        parts.append(head.encode() + b"Content-Type: image/png\r\n\r\n" + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _assert_rejection(status: int, answer: Any, code: str, param: str, model: str) -> None:
    # One JSON body on every route: OpenAI's error shape, the first finding's code, every finding an object.
    assert status == 400, answer
    error = answer["error"]
    assert (error["code"], error["param"], error["type"]) == (code, param, "invalid_request_error"), error
    assert isinstance(error["findings"], list), error
    assert all(isinstance(finding, dict) for finding in error["findings"]), error
    assert error["findings"][0]["code"] == code
    assert set(error["findings"][0]) >= {"code", "param", "message", "source", "path"}
    assert (error["model"], error["provider"]) == (model, "xhuoapi")  # provider: xhuoapi reached the guardrail
    assert error["message"].startswith("imagepricing: the platform would reject this request: ")


def test_a_rejected_generation_is_a_400_with_json_findings_and_never_reaches_upstream(proxy: tuple[str, Any]) -> None:
    base, stub = proxy
    body = {"model": "house-dalle", "prompt": "a fox", "n": 2}
    status, answer = _post(f"{base}/v1/images/generations", body)
    _assert_rejection(status, answer, "above_model_limit", "n", "dall-e-3")
    assert [r for r in stub.requests if "/images/" in r.path and b'"n":2' in r.body and b"dall-e-3" in r.body] == []


def test_a_rejected_edit_is_the_same_400(proxy: tuple[str, Any]) -> None:
    base, stub = proxy
    form, content_type = _multipart(
        {"model": "house-images", "prompt": "make it blue", "size": "1000x1000"}, [("image", "in.png", b"\x89PNG")]
    )
    status, answer = _post(f"{base}/v1/images/edits", form, content_type)
    _assert_rejection(status, answer, "size_not_multiple", "size", "gpt-image-2")
    assert [r for r in stub.requests if "/images/edits" in r.path] == []


def test_model_map_in_the_config_reaches_the_guardrail(proxy: tuple[str, Any]) -> None:
    # model_list says dall-e-3 (fixed sizes: size_not_supported); model_map says gpt-image-2.
    base, _ = proxy
    body = {"model": "house-images", "prompt": "a fox", "size": "1000x1000"}
    status, answer = _post(f"{base}/v1/images/generations", body)
    _assert_rejection(status, answer, "size_not_multiple", "size", "gpt-image-2")


def test_url_policy_in_the_config_reaches_the_guardrail(proxy: tuple[str, Any]) -> None:
    # Accepted under the default "basic" policy (and by the platform); strict rejects credentials.
    base, _ = proxy
    callback = "https://user:pw@hooks.example.com/cb"
    body = {"model": "house-dalle", "prompt": "a fox", "callback_url": callback}
    status, answer = _post(f"{base}/v1/images/generations", body)
    _assert_rejection(status, answer, "url_credentials", "callback_url", "dall-e-3")
    assert "user:pw" not in json.dumps(answer)  # a credential is never repeated


def test_on_reject_warn_in_the_config_reaches_the_guardrail(proxy: tuple[str, Any]) -> None:
    # imagepricing (model_map: gpt-image-2) accepts n=2, used as 1; imagepricing-warn (no model_map:
    # dall-e-3, from model_list) would reject it, and with on_reject: warn it logs and lets it through.
    base, stub = proxy
    before = len(stub.requests)  # the stub serves the whole module
    body = {"model": "house-images", "prompt": "a fox", "n": 2, "size": "1024x1024"}
    status, answer = _post(f"{base}/v1/images/generations", body)
    assert status == 200, answer
    sent = [r for r in stub.requests[before:] if r.path.endswith("/images/generations")]
    assert len(sent) == 1
    assert json.loads(sent[0].body)["n"] == 2


def test_the_proxy_forwards_an_accepted_request(proxy: tuple[str, Any]) -> None:
    base, stub = proxy
    before = len(stub.requests)
    body = {"model": "house-dalle", "prompt": "a fox", "n": 1}
    status, answer = _post(f"{base}/v1/images/generations", body)
    assert status == 200, answer
    assert answer["data"][0]["url"] == "https://cdn.example.invalid/fox.png"
    sent = [r for r in stub.requests[before:] if r.path.endswith("/images/generations")]
    assert len(sent) == 1
    assert json.loads(sent[0].body)["model"] == "dall-e-3"


def test_other_errors_keep_litellms_answer(proxy: tuple[str, Any]) -> None:
    # The guardrail answers only its own rejections: a wrong key (checked before any guardrail runs)
    # gets LiteLLM's own answer and envelope, whose code is the HTTP status (without a database,
    # LiteLLM 1.110 answers 400 "No connected db." for a key that is not the master key).
    base, _ = proxy
    body = {"model": "house-dalle", "prompt": "a fox", "n": 2}
    status, answer = _post(f"{base}/v1/images/generations", body, key="sk-wrong")
    assert status in (400, 401), answer
    assert answer["error"]["code"] == str(status), answer
    assert "findings" not in answer["error"], answer
