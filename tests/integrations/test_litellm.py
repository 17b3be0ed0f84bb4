"""The LiteLLM guardrail with the real `litellm` package, its hook called exactly as the proxy calls it.

The proxy (litellm 1.110, proxy/image_endpoints/endpoints.py) calls
`async_pre_call_hook(user_api_key_dict=..., cache=..., data=..., call_type=...)` with
`call_type="image_generation"` for generations and `"aimage_edit"` for edits, after resolving
`data["model"]` to its model name, adding `messages` (the prompt as a chat message) and its own keys,
and (for edits) turning each uploaded file into a `BytesIO`.
"""

from __future__ import annotations

import asyncio
import datetime
import io
from typing import Any, cast

import pytest

pytest.importorskip("litellm")
pytest.importorskip("fastapi")

from fastapi import HTTPException
from litellm.caching.dual_cache import DualCache
from litellm.integrations.custom_guardrail import CustomGuardrail
from litellm.proxy._types import UserAPIKeyAuth

from imagepricing.integrations.litellm import METADATA_KEY, ImagePricingGuardrail, Rejected

MODEL_LIST = [
    {
        "model_name": "house-dalle",
        "litellm_params": {"model": "openai/dall-e-3", "api_base": "https://api.xhuoapi.ai/v1"},
    },
    {
        "model_name": "banana",
        "litellm_params": {"model": "openai/nano-banana", "api_base": "https://api.acedata.cloud/v1"},
    },
    {
        "model_name": "editor",
        "litellm_params": {"model": "openai/gpt-image-2", "api_base": "https://api.xhuoapi.ai/v1"},
    },
    # One group, two upstream models: the router may pick either.
    {"model_name": "mixed", "litellm_params": {"model": "openai/dall-e-3", "api_base": "https://api.acedata.cloud/v1"}},
    {
        "model_name": "mixed",
        "litellm_params": {"model": "openai/gpt-image-2", "api_base": "https://api.acedata.cloud/v1"},
    },
]


def _as_the_proxy_sends(body: dict[str, Any]) -> dict[str, Any]:
    """A request body with the keys the proxy adds before its pre-call hooks run."""
    data = dict(body)
    data["litellm_call_id"] = "call-1"
    data["metadata"] = {"user_api_key_hash": "hash", "requester_ip_address": "127.0.0.1", "headers": {}}
    data["proxy_server_request"] = {"url": "http://127.0.0.1:4000/v1/images/generations", "body": dict(body)}
    data["secret_fields"] = {"raw_headers": {"authorization": "Bearer sk-secret"}}
    if isinstance(body.get("prompt"), str):
        data["messages"] = [{"role": "user", "content": body["prompt"]}]
    return data


def _hook(guardrail: ImagePricingGuardrail, data: dict[str, Any], call_type: str) -> Any:
    return asyncio.run(
        guardrail.async_pre_call_hook(
            user_api_key_dict=UserAPIKeyAuth(api_key="sk-secret"), cache=DualCache(), data=data, call_type=call_type
        )
    )


def _files(count: int) -> list[io.BytesIO]:
    files = []
    for i in range(count):
        buffer = io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
        buffer.name = f"in{i}.png"
        files.append(buffer)
    return files


def _detail(exception: HTTPException) -> Any:
    return exception.detail


@pytest.fixture
def guardrail() -> ImagePricingGuardrail:
    return ImagePricingGuardrail(model_list=MODEL_LIST)


def test_it_is_a_litellm_custom_guardrail(guardrail: ImagePricingGuardrail) -> None:
    assert isinstance(guardrail, CustomGuardrail)
    assert guardrail.guardrail_name == "imagepricing"


def test_an_accepted_generation_records_its_predicted_cost(guardrail: ImagePricingGuardrail) -> None:
    data = _as_the_proxy_sends({"model": "banana", "prompt": "an apple"})
    result = _hook(guardrail, data, "image_generation")
    assert result is data
    record = data["metadata"][METADATA_KEY]
    assert (record["cost"], record["currency"], record["provider"], record["model"]) == (
        "0.14",
        "credits",
        "acedata",
        "nano-banana",
    )
    assert data["metadata"]["user_api_key_hash"] == "hash"  # the proxy's metadata is kept
    assert data["model"] == "banana"  # the proxy still routes by its own name


def test_a_rejected_generation_is_a_400_with_the_findings(guardrail: ImagePricingGuardrail) -> None:
    data = _as_the_proxy_sends({"model": "house-dalle", "prompt": "a fox", "n": 2})
    with pytest.raises(HTTPException) as caught:
        _hook(guardrail, data, "image_generation")
    assert caught.value.status_code == 400
    error = _detail(caught.value)["error"]
    assert [f["code"] for f in error["findings"]] == ["above_model_limit"]
    assert error["findings"][0]["param"] == "n"
    assert "above_model_limit (n)" in error["message"]
    assert "sk-secret" not in str(_detail(caught.value))
    assert METADATA_KEY not in data["metadata"]


def test_a_prompt_over_the_limit_is_rejected() -> None:
    guardrail = ImagePricingGuardrail(model_map={"cheap": "dall-e-2"}, provider="openai")
    with pytest.raises(HTTPException) as caught:
        _hook(guardrail, _as_the_proxy_sends({"model": "cheap", "prompt": "x" * 1001}), "image_generation")
    assert [f["code"] for f in _detail(caught.value)["error"]["findings"]] == ["too_long"]
    data = _as_the_proxy_sends({"model": "cheap", "prompt": "a fox"})
    _hook(guardrail, data, "image_generation")
    assert data["metadata"][METADATA_KEY]["provider"] == "openai"
    assert data["metadata"][METADATA_KEY]["model"] == "dall-e-2"


def test_the_proxys_own_keys_are_not_judged(guardrail: ImagePricingGuardrail) -> None:
    # `messages`, `metadata`, `litellm_*`, `secret_fields`, ...: none is a platform parameter.
    data = _as_the_proxy_sends({"model": "editor", "prompt": "a fox", "size": "1024x1024"})
    data["litellm_logging_obj"] = object()
    data["guardrails"] = ["imagepricing"]
    _hook(guardrail, data, "image_generation")
    assert data["metadata"][METADATA_KEY]["model"] == "gpt-image-2"
    assert data["metadata"][METADATA_KEY]["provider"] == "xhuoapi"


def test_edits_uploads_are_images(guardrail: ImagePricingGuardrail) -> None:
    # As the edits route builds it: form text, numeric fields coerced, files as BytesIO, a mask list.
    data = _as_the_proxy_sends(
        {"model": "editor", "prompt": "a fox", "n": 1, "async": "true", "image": _files(2), "mask": _files(1)}
    )
    assert _hook(guardrail, data, "aimage_edit") is data
    assert data["metadata"][METADATA_KEY]["endpoint"] == "edits"
    too_many = _as_the_proxy_sends({"model": "editor", "prompt": "a fox", "image": _files(17)})
    with pytest.raises(HTTPException) as caught:
        _hook(guardrail, too_many, "aimage_edit")
    assert [f["code"] for f in _detail(caught.value)["error"]["findings"]] == ["too_many_items"]


def test_the_edits_routes_placeholders_are_absent_values(guardrail: ImagePricingGuardrail) -> None:
    # The route inserts prompt=None and image=None when the form has none: missing, not wrong.
    data = _as_the_proxy_sends({"model": "editor", "prompt": None, "image": _files(1)})
    with pytest.raises(HTTPException) as caught:
        _hook(guardrail, data, "aimage_edit")
    assert [(f["code"], f["param"]) for f in _detail(caught.value)["error"]["findings"]] == [("missing", "prompt")]


def test_a_group_is_rejected_only_when_every_deployment_rejects(guardrail: ImagePricingGuardrail) -> None:
    data = _as_the_proxy_sends({"model": "mixed", "prompt": "a fox", "n": 2})
    _hook(guardrail, data, "image_generation")  # dall-e-3 rejects n=2, gpt-image-2 takes it
    assert data["metadata"][METADATA_KEY]["model"] == "gpt-image-2"
    with pytest.raises(HTTPException):
        _hook(guardrail, _as_the_proxy_sends({"model": "mixed", "prompt": "x" * 40_000, "n": 2}), "image_generation")


@pytest.mark.parametrize("call_type", ["acompletion", "completion", "aembedding", "moderation"])
def test_other_calls_pass_untouched(guardrail: ImagePricingGuardrail, call_type: str) -> None:
    data = _as_the_proxy_sends({"model": "house-dalle", "prompt": "a fox", "n": 2})
    before = repr(data)
    assert _hook(guardrail, data, call_type) is None
    assert repr(data) == before


def test_bad_options_fail_at_start() -> None:
    with pytest.raises(ValueError, match="unknown provider"):
        ImagePricingGuardrail(provider="acme")
    with pytest.raises(ValueError, match="url_policy"):
        ImagePricingGuardrail(url_policy="lax")
    with pytest.raises(ValueError, match="model_map"):
        ImagePricingGuardrail(model_map=cast(Any, {"a": 1}))
    with pytest.raises(ValueError, match="on_reject"):
        ImagePricingGuardrail(on_reject="ignore")
    with pytest.raises(ValueError, match="as_of"):
        ImagePricingGuardrail(as_of="May 1st")


# Issue 21: the rejection's JSON body, the default URL policy, on_reject and as_of.


def test_the_rejection_body_carries_the_first_finding_code_and_every_finding(guardrail: ImagePricingGuardrail) -> None:
    data = _as_the_proxy_sends({"model": "house-dalle", "prompt": "x" * 4001, "n": 2})
    with pytest.raises(Rejected) as caught:
        _hook(guardrail, data, "image_generation")
    error = _detail(caught.value)["error"]
    assert caught.value.body == _detail(caught.value)
    assert (error["code"], error["param"], error["type"]) == (
        error["findings"][0]["code"],
        error["findings"][0]["param"],
        "invalid_request_error",
    )
    assert sorted(f["code"] for f in error["findings"]) == ["above_model_limit", "too_long"]
    assert (error["model"], error["provider"]) == ("dall-e-3", "xhuoapi")
    assert caught.value.message == error["message"]  # what LiteLLM reads when the answer is not registered


def test_the_default_url_policy_is_basic_as_in_check() -> None:
    data = _as_the_proxy_sends(
        {"model": "banana", "prompt": "a fox", "callback_url": "https://user:pw@hooks.example.com/cb"}
    )
    assert _hook(ImagePricingGuardrail(model_list=MODEL_LIST), dict(data), "image_generation") is not None
    with pytest.raises(Rejected) as caught:
        _hook(ImagePricingGuardrail(model_list=MODEL_LIST, url_policy="strict"), dict(data), "image_generation")
    assert _detail(caught.value)["error"]["code"] == "url_credentials"


def test_on_reject_warn_logs_and_lets_through(caplog: pytest.LogCaptureFixture) -> None:
    guardrail = ImagePricingGuardrail(model_list=MODEL_LIST, on_reject="warn")
    data = _as_the_proxy_sends({"model": "house-dalle", "prompt": "a fox", "n": 2})
    with caplog.at_level("WARNING", logger="imagepricing.integrations.litellm"):
        assert _hook(guardrail, data, "image_generation") is data
    record = data["metadata"][METADATA_KEY]
    assert (record["ok"], record["errors"], record["images"]) == (False, ["above_model_limit"], 0)
    assert "above_model_limit" in caplog.text


@pytest.mark.parametrize("as_of", [datetime.date(2026, 5, 1), "2026-05-01"])
def test_as_of_pins_the_day_whose_prices_apply(as_of: Any) -> None:
    guardrail = ImagePricingGuardrail(model_list=MODEL_LIST, as_of=as_of)
    data = _as_the_proxy_sends({"model": "mixed", "prompt": "a fox", "size": "2048x1152"})
    _hook(guardrail, data, "image_generation")
    record = data["metadata"][METADATA_KEY]
    assert (record["model"], record["cost"]) == ("gpt-image-2", "0.11")
