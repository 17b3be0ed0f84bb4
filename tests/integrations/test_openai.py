"""The openai guard with the real SDK (sync and async) against the stub platform on 127.0.0.1.

Requests used are clearly invalid or clearly valid under the current rules and under more lenient
ones: dall-e-3 with n=2, a dall-e-2 prompt of 1,001 characters, 17 images to edit, `async` written as
"yes" (through extra_body); nano-banana and gpt-image-2 at 1024x1024 are valid.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import logging
from typing import Any, cast

import pytest

openai = pytest.importorskip("openai")

import imagepricing  # noqa: E402
from imagepricing.integrations.openai import LAST_REPORT, REPORT_EXTENSION, GuardRejected, guard, last_report  # noqa: E402
from imagepricing.report import Report  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
BOUNDARY = {"Content-Type": "multipart/form-data; boundary=imagepricing-test-boundary"}
VALID_GENERATION = {"model": "gpt-image-2", "prompt": "a fox", "size": "1024x1024"}
INVALID_GENERATIONS = [
    pytest.param({"model": "dall-e-3", "prompt": "a fox", "n": 2}, "above_model_limit", id="dall-e-3-n2"),
    pytest.param({"model": "dall-e-2", "prompt": "x" * 1001}, "too_long", id="prompt-over-limit"),
    pytest.param(
        {"model": "gpt-image-2", "prompt": "a fox", "extra_body": {"async": "yes"}}, "wrong_type", id="extra-body"
    ),
]


def _images(count: int) -> list[tuple[str, bytes, str]]:
    return [(f"in{i}.png", PNG, "image/png") for i in range(count)]


def _sync(stub: Any, **options: Any) -> Any:
    return openai.OpenAI(base_url=stub.url + "/v1", api_key="sk-test-secret", max_retries=0, **options)


def _async(stub: Any, **options: Any) -> Any:
    return openai.AsyncOpenAI(base_url=stub.url + "/v1", api_key="sk-test-secret", max_retries=0, **options)


def _call(client: Any, method: str, **kwargs: Any) -> Any:
    """Call `client.images.<method>` (or a dotted path), awaiting it for an async client."""
    target = client
    for name in method.split("."):
        target = getattr(target, name)
    result = target(**kwargs)
    if isinstance(client, openai.AsyncOpenAI):

        async def wait() -> Any:
            return await result

        return asyncio.run(wait())
    return result


def _parts(recorded: Any) -> list[tuple[Any, ...]]:
    """A recorded multipart body as (name, filename, content type, bytes) per part, boundary aside."""
    header = f"Content-Type: {recorded.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + recorded.body)
    return [
        (
            part.get_param("name", header="content-disposition"),
            part.get_filename(),
            part.get("content-type"),
            part.get_payload(decode=True),
        )
        for part in message.iter_parts()
    ]


CLIENTS = [pytest.param(_sync, id="sync"), pytest.param(_async, id="async")]


@pytest.mark.parametrize("make", CLIENTS)
@pytest.mark.parametrize(("request_", "code"), INVALID_GENERATIONS)
def test_a_rejected_generation_never_reaches_the_platform(
    stub: Any, make: Any, request_: dict[str, Any], code: str
) -> None:
    client = guard(make(stub), provider="acedata")
    with pytest.raises(imagepricing.RequestRejected) as caught:
        _call(client, "images.generate", **request_)
    assert stub.requests == []
    assert isinstance(caught.value, GuardRejected)
    assert isinstance(caught.value, openai.OpenAIError)
    assert code in [f.code for f in caught.value.findings]
    assert "sk-test-secret" not in str(caught.value)
    if isinstance(client, openai.OpenAI):  # an async call ran in asyncio.run's copy of the context
        assert last_report() is caught.value.report


@pytest.mark.parametrize("make", CLIENTS)
def test_a_rejected_edit_never_reaches_the_platform(stub: Any, make: Any) -> None:
    client = guard(make(stub), provider="xhuoapi")
    with pytest.raises(imagepricing.RequestRejected) as caught:
        _call(client, "images.edit", model="gpt-image-2", prompt="a fox", image=_images(17))
    assert stub.requests == []
    assert [f.code for f in caught.value.findings] == ["too_many_items"]
    assert caught.value.report.endpoint == "edits"


@pytest.mark.parametrize("make", CLIENTS)
def test_an_accepted_generation_arrives_byte_identical(stub: Any, make: Any) -> None:
    plain = make(stub)
    guarded = guard(plain, provider="xhuoapi")
    for client in (plain, guarded):
        response = _call(client, "images.generate", **VALID_GENERATION, extra_body={"async": False})
        assert response.data[0].url == "https://cdn.example.invalid/fox.png"
    unguarded, checked = stub.requests
    assert checked.body == unguarded.body
    assert checked.path == unguarded.path == "/v1/images/generations"
    assert checked.headers["content-type"] == unguarded.headers["content-type"]
    assert checked.headers["content-length"] == unguarded.headers["content-length"]


@pytest.mark.parametrize("make", CLIENTS)
def test_an_accepted_edit_arrives_byte_identical(stub: Any, make: Any) -> None:
    # The SDK keeps a caller's boundary, so both bodies can be compared byte for byte ...
    plain = make(stub)
    guarded = guard(plain, provider="xhuoapi")
    for client in (plain, guarded):
        _call(client, "images.edit", model="gpt-image-2", prompt="a fox", image=_images(2), extra_headers=BOUNDARY)
    unguarded, checked = stub.requests
    assert checked.body == unguarded.body
    assert checked.headers["content-type"] == unguarded.headers["content-type"]
    assert b"\x89PNG" in checked.body
    # ... and with the SDK's own random boundaries, part by part.
    for client in (plain, guarded):
        _call(client, "images.edit", model="gpt-image-2", prompt="a fox", image=_images(2), n=1)
    first, second = stub.requests[2:]
    assert first.body != second.body  # the boundaries differ
    assert _parts(first) == _parts(second)
    assert sorted(p[0] or "" for p in _parts(second)) == ["image[]", "image[]", "model", "n", "prompt"]


@pytest.mark.parametrize("make", CLIENTS)
def test_the_caller_reads_the_report(stub: Any, make: Any) -> None:
    client = guard(make(stub), provider="acedata")
    raw = _call(client, "images.with_raw_response.generate", model="nano-banana", prompt="an apple")
    report = raw.http_request.extensions[REPORT_EXTENSION]
    assert isinstance(report, Report)
    assert (report.ok, report.provider, report.model, report.cost) == (True, "acedata", "nano-banana", report.cost)
    assert str(report.cost) == "0.14"
    if isinstance(client, openai.OpenAI):  # asyncio.run copies the context: the task's value stays there
        assert last_report() is report


def test_last_report_in_an_async_task(stub: Any) -> None:
    client = guard(_async(stub), provider="acedata")

    async def run() -> tuple[Report | None, Report | None]:
        # The task starts from a copy of this thread's context, which may hold an earlier test's
        # report, and check() returns the very same Report for a repeated request shape: clear it.
        LAST_REPORT.set(None)
        before = last_report()
        await client.images.generate(model="nano-banana", prompt="an apple")
        return before, last_report()

    before, after = asyncio.run(run())
    assert before is None
    assert after is not None
    assert (after.ok, after.endpoint, str(after.cost)) == (True, "generations", "0.14")


@pytest.mark.parametrize("make", CLIENTS)
def test_with_options_keeps_the_guard(stub: Any, make: Any) -> None:
    client = guard(make(stub), provider="acedata").with_options(timeout=30, max_retries=0)
    with pytest.raises(imagepricing.RequestRejected):
        _call(client, "images.generate", model="dall-e-3", prompt="a fox", n=2)
    assert stub.requests == []
    _call(client, "images.generate", model="nano-banana", prompt="an apple")
    assert len(stub.requests) == 1


@pytest.mark.parametrize("make", CLIENTS)
def test_other_calls_pass_untouched(stub: Any, make: Any) -> None:
    plain = make(stub)
    guarded = guard(plain, provider="acedata")
    messages = [{"role": "user", "content": "n=2 dall-e-3"}]
    for client in (plain, guarded):
        completion = _call(client, "chat.completions.create", model="dall-e-3", messages=messages)
        assert completion.choices[0].message.content == "hi"
    unguarded, checked = stub.requests
    assert checked.path == "/v1/chat/completions"
    assert checked.body == unguarded.body


def test_the_original_client_stays_unguarded(stub: Any) -> None:
    plain = _sync(stub)
    guard(plain, provider="acedata")
    plain.images.generate(model="dall-e-3", prompt="a fox", n=2)
    assert len(stub.requests) == 1


@pytest.mark.parametrize("make", CLIENTS)
def test_warn_logs_and_sends(stub: Any, make: Any, caplog: pytest.LogCaptureFixture) -> None:
    client = guard(make(stub), provider="acedata", on_reject="warn")
    with caplog.at_level(logging.WARNING, logger="imagepricing.integrations.openai"):
        _call(client, "images.generate", model="dall-e-3", prompt="a fox", n=2)
    assert len(stub.requests) == 1
    assert "above_model_limit (n)" in caplog.text
    assert "sk-test-secret" not in caplog.text


@pytest.mark.parametrize("make", CLIENTS)
@pytest.mark.parametrize("decision", [True, False])
def test_a_callable_decides(stub: Any, make: Any, decision: bool) -> None:
    seen: list[Report] = []

    def decide(report: Report) -> bool:
        seen.append(report)
        return decision

    client = guard(make(stub), provider="acedata", on_reject=decide)
    _call(client, "images.generate", model="nano-banana", prompt="an apple")  # ok: not asked
    assert seen == []
    if decision:
        _call(client, "images.generate", model="dall-e-3", prompt="a fox", n=2)
        assert len(stub.requests) == 2
    else:
        with pytest.raises(imagepricing.RequestRejected):
            _call(client, "images.generate", model="dall-e-3", prompt="a fox", n=2)
        assert len(stub.requests) == 1
    assert [r.model for r in seen] == ["dall-e-3"]


def test_a_callable_must_answer_a_bool(stub: Any) -> None:
    def answer_yes(report: Report) -> Any:
        return "yes"

    client = guard(_sync(stub), provider="acedata", on_reject=answer_yes)
    with pytest.raises(TypeError, match="on_reject must return True"):
        client.images.generate(model="dall-e-3", prompt="a fox", n=2)
    assert stub.requests == []


def test_an_unknown_host_needs_a_provider(stub: Any) -> None:
    with pytest.raises(ValueError, match="pass provider="):
        guard(_sync(stub))
    with pytest.raises(ValueError, match="unknown provider"):
        guard(_sync(stub), provider="acme")
    with pytest.raises(ValueError, match="on_reject"):
        guard(_sync(stub), provider="acedata", on_reject=cast(Any, "ignore"))
    with pytest.raises(ValueError, match="url_policy"):
        guard(_sync(stub), provider="acedata", url_policy="lax")
    with pytest.raises(TypeError, match=r"openai\.OpenAI"):
        guard(cast(Any, object()), provider="acedata")


def _http_module() -> Any:
    """The HTTP library of this SDK major: httpx2 for openai 3, httpx for openai 2."""
    return pytest.importorskip("httpx2" if int(openai.__version__.split(".")[0]) >= 3 else "httpx")


def test_the_provider_comes_from_the_host_and_a_given_http_client_is_kept() -> None:
    # A transport that answers in-process: nothing may leave this machine, and the host must be real.
    http = _http_module()
    seen: list[Any] = []
    hooked: list[str] = []

    def answer(request: Any) -> Any:
        seen.append(request)
        return http.Response(200, json={"created": 1, "data": [{"url": "https://cdn.example.invalid/x.png"}]})

    mine = openai.DefaultHttpxClient(
        transport=http.MockTransport(answer), event_hooks={"request": [lambda r: hooked.append(r.url.path)]}
    )
    plain = openai.OpenAI(base_url="https://api.xhuoapi.ai/v1/openai", api_key="sk-test", max_retries=0)
    client = guard(plain, http_client=mine)
    client.images.generate(model="gpt-image-2", prompt="a fox", size="1024x1024")
    report = last_report()
    assert report is not None
    assert (report.provider, report.endpoint) == ("xhuoapi", "generations")
    assert hooked == ["/v1/openai/images/generations"]  # the client's own hook still runs
    with pytest.raises(imagepricing.RequestRejected):
        client.images.edit(model="gpt-image-2", prompt="a fox", image=_images(17))
    assert len(seen) == 1


LARGE = b"\x89PNG\r\n\x1a\n" + bytes(70 * 1024)


@pytest.mark.parametrize("make", CLIENTS)
def test_large_uploads_are_counted_and_sent_whole(stub: Any, make: Any) -> None:
    client = guard(make(stub), provider="xhuoapi")
    with pytest.raises(imagepricing.RequestRejected) as caught:
        _call(client, "images.edit", model="gpt-image-2", prompt="a fox", image=[("x.png", LARGE, "image/png")] * 17)
    assert [f.code for f in caught.value.findings] == ["too_many_items"]
    assert stub.requests == []
    image = [("a.png", LARGE, "image/png"), ("b.png", LARGE[::-1], "application/octet-stream")]
    _call(client, "images.edit", model="gpt-image-2", prompt="a fox", image=image, extra_headers=BOUNDARY)
    _call(make(stub), "images.edit", model="gpt-image-2", prompt="a fox", image=image, extra_headers=BOUNDARY)
    checked, unguarded = stub.requests
    assert checked.body == unguarded.body
    assert [p[3] for p in _parts(checked) if p[1]] == [LARGE, LARGE[::-1]]


def test_a_form_with_large_files_is_read_whole_without_keeping_their_bytes() -> None:
    from imagepricing.integrations._forms import FilePart, parse_multipart

    http = _http_module()
    prompt = "a fox " * 20_000  # a large text part is text: kept whole
    request = http.Request(
        "POST",
        "http://127.0.0.1:9/v1/images/edits",
        data={"model": "gpt-image-2", "prompt": prompt, "n": "2"},
        files=[("image[]", ("a.png", LARGE, "image/png")), ("mask", ("m.png", LARGE * 100, "image/png"))],
    )
    assert parse_multipart(request.read(), request.headers["content-type"]) == [
        ("model", "gpt-image-2"),
        ("prompt", prompt),
        ("n", "2"),
        ("image[]", FilePart("a.png", "image/png")),
        ("mask", FilePart("m.png", "image/png")),
    ]


# Issue 21: one URL policy by default everywhere, and a last report that is this context's last call's.
CREDENTIALS_CALLBACK = {"callback_url": "https://user:pw@hooks.example.com/cb"}


def test_the_default_url_policy_is_basic_as_in_check(stub: Any) -> None:
    # The platform accepts a callback URL with credentials; so do check() and the guard by default.
    request = {"model": "nano-banana", "prompt": "a fox", **CREDENTIALS_CALLBACK}
    assert imagepricing.check(request).ok
    client = guard(_sync(stub), provider="acedata")
    client.images.generate(model="nano-banana", prompt="a fox", extra_body=CREDENTIALS_CALLBACK)
    report = last_report()
    assert report is not None
    assert (report.ok, report.errors) == (True, ())
    strict = guard(_sync(stub), provider="acedata", url_policy="strict")
    with pytest.raises(GuardRejected) as caught:
        strict.images.generate(model="nano-banana", prompt="a fox", extra_body=CREDENTIALS_CALLBACK)
    assert [(f.param, f.code) for f in caught.value.report.errors] == [("callback_url", "url_credentials")]


@pytest.mark.parametrize("make", CLIENTS)
def test_a_call_that_is_not_an_images_call_clears_the_last_report(stub: Any, make: Any) -> None:
    client = guard(make(stub), provider="acedata")

    async def in_one_task() -> tuple[Report | None, Report | None]:
        await client.images.generate(model="nano-banana", prompt="an apple")
        checked = last_report()
        await client.models.list()
        return checked, last_report()

    if isinstance(client, openai.AsyncOpenAI):
        checked, after = asyncio.run(in_one_task())
    else:
        client.images.generate(model="nano-banana", prompt="an apple")
        checked = last_report()
        client.models.list()
        after = last_report()
    assert checked is not None
    assert checked.model == "nano-banana"
    assert after is None


def test_an_images_call_the_guard_cannot_check_clears_the_last_report(stub: Any) -> None:
    http_client = openai.DefaultHttpxClient()
    client = guard(_sync(stub), provider="acedata", http_client=http_client)
    client.images.generate(model="nano-banana", prompt="an apple")
    assert last_report() is not None
    # A body that is not JSON, through the guarded HTTP client: sent unchecked (a false rejection is
    # worse than a missed one), and no report is this call's report.
    http_client.post(stub.url + "/v1/images/generations", content=b"not json").close()
    http_client.close()
    assert last_report() is None


def test_as_of_pins_the_day_whose_prices_apply(stub: Any) -> None:
    import datetime  # only here

    client = guard(_sync(stub), provider="acedata", as_of=datetime.date(2026, 5, 1))
    client.images.generate(model="gpt-image-2", prompt="a fox", size="2048x1152")
    report = last_report()
    assert report is not None
    assert (report.as_of, str(report.cost)) == (datetime.date(2026, 5, 1), "0.11")
    with pytest.raises(ValueError, match="as_of"):
        guard(_sync(stub), provider="acedata", as_of="2026-05-01")  # type: ignore[call-overload]
