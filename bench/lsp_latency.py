"""How fast `nnspec lsp` answers an edit, and whether its memory stays flat.

    python bench/lsp_latency.py            # 100 timed edits, 10,000 edits for memory
    python bench/lsp_latency.py --quick    # 100 timed edits, 1,000 edits for memory
    python bench/lsp_latency.py --resnet   # only the edits of specs/resnet50.nn
    PYTHONPATH=OTHER_TREE python bench/lsp_latency.py   # measure another checkout

Starts `python -m nnspec.cli lsp` through pygls's LanguageClient over stdio,
opens a 500-line graph spec (bench/compile_speed.py's generator), and sends
incremental edits: most change a layer's units, one in four misspells a layer
type and the next restores it. Latency is the time from sending a change to
receiving the diagnostics published for that version, so it includes the JSON
transport both ways; each edit is paired with a compile of the same text in this
process, before or after it in turn (bench/measure.py). The server's CPU time
comes from /proc. Memory is the server process's resident set size (Linux /proc)
before and after the edits.

Then the same latency after edits of specs/resnet50.nn, a spec of blocks and
loops that expands to 176 layers: the units of its last layer, the epsilon of
the BatchNormalization in block `unit` (53 expansions), and one in four
misspells the `Add` of block `bottleneck` (an error found in 16 expansions,
published with them as related information) and the next restores it.
This is a benchmark, not a test: it prints figures and PASS/FAIL against targets.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from pathlib import Path

import measure
from compile_speed import compile_text, graph_spec
from lsprotocol import types
from measure import section, spread, table
from pygls.lsp.client import LanguageClient

LINES = 500
TIMED_EDITS = 100
MEMORY_EDITS = 10_000
TARGET_MEDIAN_S = 0.050
TARGET_RSS_RATIO = 1.10
URI = "file:///bench/generated.nn"
RESNET = measure.TREE / "specs" / "resnet50.nn"
# In specs/resnet50.nn, what the edits change: (pattern of a line, its group 1 as
# written by edit n). Kinds 2 and 3 misspell the layer type and repair it.
RESNET_EDITS = [
    (r"Dense\((\d+)", lambda n: str(1000 + n % 90)),
    (r"BatchNormalization\(epsilon=(1\.00\de-5)", lambda n: f"1.00{1 + n % 9}e-5"),
    (r"add = (Add)\(", lambda n: "Adx"),
    (r"add = (Adx)\(", lambda n: "Add"),
]


def spec_of_lines(lines: int) -> str:
    """A generated graph spec of about `lines` lines (never fewer)."""
    layers = lines * 2 // 3
    while len(graph_spec(layers).splitlines()) < lines:
        layers += 1
    return graph_spec(layers)


class Bench:
    def __init__(self, text: str, uri: str = URI) -> None:
        self.uri = uri
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
        await self.client.start_io(*measure.NNSPEC, "lsp", cwd=str(measure.TREE), env=measure.ENV)
        asyncio.get_running_loop().create_task(self._drain())
        await self.client.initialize_async(
            types.InitializeParams(capabilities=types.ClientCapabilities(), process_id=None)
        )
        self.client.initialized(types.InitializedParams())
        arrived = self._expect(self.version)
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=self.uri, language_id="nnspec", version=self.version, text=text
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

    def cpu_s(self) -> float:
        """The server's CPU time so far (user + system, from /proc/PID/stat)."""
        stat = Path(f"/proc/{self.client._server.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

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

    async def edit(self, n: int, change=None) -> tuple[float, int]:
        """Send edit n (made now unless given); seconds until its diagnostics arrived,
        and how many there were."""
        self.version += 1
        arrived = self._expect(self.version)
        change = change or self.change(n)
        sent = time.perf_counter()
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=self.uri, version=self.version
                ),
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


class ResnetBench(Bench):
    """Edits of specs/resnet50.nn (RESNET_EDITS, in turn)."""

    def __init__(self, text: str) -> None:
        super().__init__(text, "file:///bench/resnet50.nn")

    def change(self, n: int) -> types.TextDocumentContentChangePartial:
        pattern, new = RESNET_EDITS[n % len(RESNET_EDITS)]
        lines = enumerate(self.lines)
        found = next(((i, m) for i, written in lines if (m := re.search(pattern, written))), None)
        if found is None:
            raise SystemExit(f"specs/resnet50.nn has no line matching {pattern}")
        line, match = found
        start, end = match.span(1)
        text = new(n)
        self.lines[line] = self.lines[line][:start] + text + self.lines[line][end:]
        where = types.Range(types.Position(line, start), types.Position(line, end))
        return types.TextDocumentContentChangePartial(range=where, text=text)


async def latency(bench: Bench, timed: int) -> float:
    """Timed edits, each paired with a compile of the same text here; the median latency."""
    for n in range(10):  # warm up: first compiles, caches
        await bench.edit(n)
    waits, local, errors = [], [], 0
    cpu_before = bench.cpu_s()
    for n in range(timed):
        change = bench.change(n)
        text = "\n".join(bench.lines)
        if n % 2:  # the compile here goes first in every other pair
            local.append(measure.call(compile_text, text)[0])
        seconds, count = await bench.edit(n, change)
        if not n % 2:
            local.append(measure.call(compile_text, text)[0])
        waits.append(seconds)
        errors += count > 0
    server_cpu = (bench.cpu_s() - cpu_before) / timed
    rows = [
        ["change -> diagnostics, over stdio", spread(waits).show(1e3), "-"],
        [
            "compile_text of the same text here",
            spread(measure.walls(local)).show(1e3),
            spread(measure.cpus(local)).show(1e3),
        ],
    ]
    table([f"{timed} edits ({errors} with errors)", "wall ms", "CPU ms"], rows)
    p90 = statistics.quantiles(waits, n=10)[-1]
    print(
        f"   latency p90 {p90 * 1e3:.1f} ms; server CPU per edit (mean) {server_cpu * 1e3:.1f} ms"
    )
    over = measure.ratio(waits, measure.walls(local))
    print(f"   latency / compile here, wall, per pair: {over.show(digits=2)}")
    return statistics.median(waits)


async def memory(bench: Bench, edits: int) -> float:
    """RSS of the server over `edits` edits; the ratio end / start."""
    before = bench.rss_kib()
    step = max(1, edits // 5)
    rows = [[0, f"{before / 1024:.1f}"]]
    for n in range(edits):
        await bench.edit(n)
        if (n + 1) % step == 0:
            rows.append([f"{n + 1:,}", f"{bench.rss_kib() / 1024:.1f}"])
    table(["edits", "server RSS MiB"], rows)
    return bench.rss_kib() / before


async def run(timed: int, memory_edits: int, generated: bool = True) -> bool:
    print(f"tree measured: {measure.TREE}")
    median = ratio = None
    if generated:
        text = spec_of_lines(LINES)
        print(f"spec: {len(text.splitlines())} lines\n")
        bench = Bench(text)
        await bench.start(text)
        with section("latency: median [min-max]"):
            median = await latency(bench, timed)
        with section(f"memory over {memory_edits:,} edits"):
            ratio = await memory(bench, memory_edits)
        await bench.stop()
    resnet = RESNET.read_text()
    bench = ResnetBench(resnet)
    await bench.start(resnet)
    with section("latency after an edit of specs/resnet50.nn: median [min-max]"):
        blocks = await latency(bench, timed)
    await bench.stop()

    print("targets:")
    passed = (
        [shown(f"median latency under {TARGET_MEDIAN_S * 1e3:g} ms", median)] if generated else []
    )
    passed.append(shown(f"resnet50.nn: median latency under {TARGET_MEDIAN_S * 1e3:g} ms", blocks))
    if ratio is not None:
        flat = ratio < TARGET_RSS_RATIO
        print(f"   RSS end/start under {TARGET_RSS_RATIO:g}: {ratio:.3f} {measure.verdict(flat)}")
        passed.append(flat)
    return all(passed)


def shown(target: str, median: float) -> bool:
    fast = median < TARGET_MEDIAN_S
    print(f"   {target}: {median * 1e3:.1f} ms {measure.verdict(fast)}")
    return fast


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 edits for memory")
    parser.add_argument("--resnet", action="store_true", help="only specs/resnet50.nn's edits")
    args = parser.parse_args(argv)
    if not Path("/proc/self/status").exists():
        raise SystemExit("this benchmark reads the server's memory from /proc (Linux)")
    memory_edits = MEMORY_EDITS // 10 if args.quick else MEMORY_EDITS
    asyncio.run(run(TIMED_EDITS, memory_edits, generated=not args.resnet))
    return 0


if __name__ == "__main__":
    sys.exit(main())
