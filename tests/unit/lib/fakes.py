"""A scripted stand-in for GraphTransport: each URL answers from a queue of responses or errors."""

from __future__ import annotations

from collections import defaultdict, deque

import httpx
import orjson

from pipelines.lib.graph.retry import RetryBudget
from pipelines.lib.graph.transport import Response, TransientError


def page(items: list[object], next_link: str | None = None) -> bytes:
    body: dict[str, object] = {"value": items}
    if next_link:
        body["@odata.nextLink"] = next_link
    return orjson.dumps(body)


class ScriptedTransport:
    def __init__(self, script: dict[str, list[bytes | Exception]]) -> None:
        self.script = {url: deque(answers) for url, answers in script.items()}
        self.calls: list[str] = []
        self.waits: list[float] = []
        self.budget = RetryBudget()
        self.served: dict[str, int] = defaultdict(int)

    async def get_once(self, url: str) -> Response:
        self.calls.append(url)
        queue = self.script[url]
        answer = queue.popleft() if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return Response(200, httpx.Headers(), answer, url)

    async def wait_before_retry(self, attempt: int, error: TransientError) -> None:
        self.waits.append(self.budget.next_wait(attempt, error.retry_after, str(error)))
