"""How fast `nnspec lsp` answers an edit, and whether its memory stays flat.

    python bench/lsp_latency.py            # 100 timed edits, 10,000 edits for memory
    python bench/lsp_latency.py --quick    # 100 timed edits, 1,000 edits for memory

Starts `python -m nnspec.cli lsp` through pygls's LanguageClient over stdio,
opens a 500-line graph spec (bench/compile_speed.py's generator), and sends
incremental edits: most change a layer's units, one in four misspells a layer
type and the next restores it. Latency is the time from sending a change to
receiving the diagnostics published for that version, so it includes the JSON
transport both ways. Memory is the server process's resident set size (Linux
/proc) before and after the edits. This is a benchmark, not a test: it prints
figures and PASS/FAIL against targets.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from compile_speed import graph_spec
from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nnspec.check.pipeline import compile_text  # noqa: E402

LINES = 500
TIMED_EDITS = 100
MEMORY_EDITS = 10_000
TARGET_MEDIAN_MS = 50.0
TARGET_RSS_RATIO = 1.10
URI = "file:///bench/generated.nn"


def spec_of_lines(lines: int) -> str:
    """A generated graph spec of about `lines` lines (never fewer)."""
    layers = lines * 2 // 3
    while len(graph_spec(layers).splitlines()) < lines:
        layers += 1
    return graph_spec(layers)


class Bench:
    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        # the `Dense(64, activation=relu)` lines: their units change freely
        self.editable = [i for i, line in enumerate(self.lines) if "activation=relu)" in line]
        self.client = LanguageClient("nnspec-bench", "1")
        self.version = 1
        self.waiting: dict[int, asyncio.Future] = {}

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            future = self.waiting.pop(params.version, None)
            if future is not None and not future.done():
                future.set_result((time.perf_counter(), len(params.diagnostics)))

    async def start(self, text: str) -> None:
        await self.client.start_io(sys.executable, "-m", "nnspec.cli", "lsp", cwd=str(ROOT))
        asyncio.get_running_loop().create_task(self._drain())
        await self.client.initialize_async(
            types.InitializeParams(capabilities=types.ClientCapabilities(), process_id=None)
        )
        self.client.initialized(types.InitializedParams())
        arrived = self._expect(self.version)
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=URI, language_id="nnspec", version=self.version, text=text
                )
            )
        )
        await arrived

    async def _drain(self) -> None:  # the server logs to stderr; a full pipe would stall it
        while await self.client._server.stderr.read(65536):
            pass

    def _expect(self, version: int) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiting[version] = future
        return future

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.client._server.pid}/status").read_text()
        return int(
            next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]
        )

    def change(self, n: int) -> types.TextDocumentContentChangePartial:
        """Edit number n: new units on a Dense line, or a misspelt type and its repair."""
        line = self.editable[(n // 4) % len(self.editable)]
        if n % 4 in (2, 3):
            column, width = self.lines[line].index("D"), 5
            new = "Dxnse" if n % 4 == 2 else "Dense"
        else:
            column = self.lines[line].index("(") + 1
            new, width = str(10 + n % 90), 2
        self.lines[line] = self.lines[line][:column] + new + self.lines[line][column + width :]
        start, end = types.Position(line, column), types.Position(line, column + width)
        return types.TextDocumentContentChangePartial(range=types.Range(start, end), text=new)

    async def edit(self, n: int) -> tuple[float, int]:
        """Send edit n; seconds until its diagnostics arrived, and how many there were."""
        self.version += 1
        arrived = self._expect(self.version)
        change = self.change(n)
        sent = time.perf_counter()
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=self.version),
                content_changes=[change],
            )
        )
        received, count = await asyncio.wait_for(arrived, 60)
        return received - sent, count

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client._server.wait()
        await self.client.stop()


async def run(timed: int, memory_edits: int) -> bool:
    text = spec_of_lines(LINES)
    compile_ms = statistics.median(compile_seconds(text) for _ in range(11)) * 1e3
    print(
        f"spec: {len(text.splitlines())} lines; compile in this process: median {compile_ms:.1f} ms"
    )
    bench = Bench(text)
    await bench.start(text)

    for n in range(10):  # warm up: first compiles, caches
        await bench.edit(n)
    latencies, errors = [], 0
    for n in range(timed):
        seconds, count = await bench.edit(n)
        latencies.append(seconds * 1e3)
        errors += count > 0
    median = statistics.median(latencies)
    p90 = statistics.quantiles(latencies, n=10)[-1]
    print(
        f"latency, change -> diagnostics over stdio ({timed} edits, {errors} with errors): "
        f"median {median:.1f} ms, p90 {p90:.1f} ms, min {min(latencies):.1f} ms, "
        f"max {max(latencies):.1f} ms"
    )
    print(f"ratio median latency / in-process compile: {median / compile_ms:.2f}")

    before = bench.rss_kib()
    step = max(1, memory_edits // 5)
    began = time.perf_counter()
    for n in range(memory_edits):
        await bench.edit(n)
        if (n + 1) % step == 0:
            print(f"  after {n + 1:>6,} edits: RSS {bench.rss_kib() / 1024:7.1f} MiB")
    after = bench.rss_kib()
    elapsed = time.perf_counter() - began
    ratio = after / before
    print(
        f"memory over {memory_edits:,} edits ({elapsed:.0f} s): start RSS {before / 1024:.1f} MiB, "
        f"end RSS {after / 1024:.1f} MiB, ratio {ratio:.3f}"
    )
    await bench.stop()

    fast, flat = median < TARGET_MEDIAN_MS, ratio < TARGET_RSS_RATIO
    print("\ntargets:")
    print(f"  median latency under {TARGET_MEDIAN_MS:g} ms: {median:.1f} ms {verdict(fast)}")
    print(f"  RSS end/start under {TARGET_RSS_RATIO:g}: {ratio:.3f} {verdict(flat)}")
    return fast and flat


def compile_seconds(text: str) -> float:
    start = time.perf_counter()
    compile_text(text)
    return time.perf_counter() - start


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 edits for memory")
    args = parser.parse_args(argv)
    if not Path("/proc/self/status").exists():
        raise SystemExit("this benchmark reads the server's memory from /proc (Linux)")
    asyncio.run(run(TIMED_EDITS, MEMORY_EDITS // 10 if args.quick else MEMORY_EDITS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
