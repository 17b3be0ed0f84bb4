"""What does the openai guard add to a call? Guarded vs unguarded client, same run, same local stub.

Run on demand (needs the `openai` extra; sends only to a stub server on 127.0.0.1):

    python benchmarks/bench_openai_guard.py            # 15 rounds of 40 calls per case
    python benchmarks/bench_openai_guard.py --rounds 30

For each case it prints the median milliseconds per call, unguarded and guarded, and their ratio;
the unguarded client in the same run is the anchor, so a loaded machine moves both. The edit sends
two 1 MiB files (the guard reads the multipart body once more to parse it).
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import openai

from imagepricing.integrations.openai import guard

ANSWER = json.dumps({"created": 1, "data": [{"url": "https://cdn.example.invalid/x.png"}]}).encode()
FILE = b"\x89PNG\r\n\x1a\n" + bytes(1024 * 1024)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)


def _median_ms(call: Callable[[], Any], rounds: int, calls: int) -> float:
    means = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        means.append((time.perf_counter() - start) / calls * 1000)
    return statistics.median(means)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=40)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    plain = openai.OpenAI(base_url=base, api_key="sk-bench", max_retries=0)
    guarded = guard(plain, provider="acedata")
    cases: dict[str, Callable[[Any], Any]] = {
        "generation (nano-banana)": lambda c: c.images.generate(model="nano-banana", prompt="an apple"),
        "edit (gpt-image-2, 2 x 1 MiB)": lambda c: c.images.edit(
            model="gpt-image-2", prompt="a fox", image=[("a.png", FILE, "image/png"), ("b.png", FILE, "image/png")]
        ),
    }
    print(f"openai {openai.__version__}; median ms per call over {args.rounds} rounds of {args.calls}")
    for name, case in cases.items():
        case(plain), case(guarded)  # warm both connections
        bare = _median_ms(functools.partial(case, plain), args.rounds, args.calls)
        checked = _median_ms(functools.partial(case, guarded), args.rounds, args.calls)
        print(f"{name:32} unguarded {bare:7.3f}  guarded {checked:7.3f}  ratio {checked / bare:5.2f}")
    server.shutdown()


if __name__ == "__main__":
    main()
