"""Open-loop load on the public rating page: POST one rating every 1/RATE seconds for SECONDS, each from
a new citizen (fresh device cookie, own address in X-Forwarded-For as a reverse proxy would send it).

Latency runs from the moment a request was *due*, not when it was sent, so a server falling behind
shows in the percentiles (no coordinated omission). Prints one JSON object.

    python -m bench.ratings_load --port P --seconds 60 --rate 300 --window W-01
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import time
from urllib.parse import urlencode


async def one(port: int, body: bytes, device: str, address: str, window: str) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST /r/w/{window}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        f"Cookie: kp_dev={device}\r\nX-Forwarded-For: {address}\r\nConnection: close\r\n\r\n"
    )
    writer.write(head.encode() + body)
    await writer.drain()
    status_line = await reader.readline()
    await reader.read()  # the rest, until the server closes
    writer.close()
    return int(status_line.split()[1]) if status_line else 0


async def run(port: int, seconds: int, rate: int, window: str) -> dict[str, object]:
    total = seconds * rate
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    start = time.perf_counter() + 0.5

    async def fire(n: int) -> None:
        nonlocal errors
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        # A unique text marks each rating, so the stored rows can be matched to accepted requests.
        body = urlencode({"level": 1 + n % 5, "text": f"压测评价 {n}"}).encode()
        address = f"36.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        try:
            status = await asyncio.wait_for(one(port, body, secrets.token_hex(16), address, window), 30)
        except (TimeoutError, OSError, ValueError, IndexError):
            errors += 1
            return
        latencies.append(time.perf_counter() - due)
        statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(fire(n) for n in range(total)))
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return (
            round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 1) if latencies else 0.0
        )

    accepted = statuses.get(302, 0)
    return {
        "value": round(accepted / elapsed, 1),
        "sent": total,
        "accepted": accepted,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": errors + sum(v for k, v in statuses.items() if k != 302),
        "elapsed_s": round(elapsed, 2),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1] * 1000, 1) if latencies else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--rate", type=int, default=300)
    parser.add_argument("--window", default="W-01")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.port, args.seconds, args.rate, args.window))))


if __name__ == "__main__":
    main()
