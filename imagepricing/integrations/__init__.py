"""Optional integrations: each module is imported only by its user and needs its own extra.

- `imagepricing.integrations.openai`: guard an `openai.OpenAI` / `AsyncOpenAI` client (extra `openai`).
- `imagepricing.integrations.litellm`: a LiteLLM proxy guardrail (extra `litellm`).
- `imagepricing.integrations.server`: the `imagepricing serve` HTTP service (extra `server`).
- `imagepricing.integrations.dask`: estimates over many log files on a Dask cluster (extra `dask`).

Shared, dependency-free helpers: `imagepricing.routes` (endpoint and provider from a URL) and
`imagepricing.integrations._forms` (a multipart edits body as a request).
"""
