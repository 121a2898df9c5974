"""The `nnspec` command line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from . import __version__
from .compiler import Result, compile_text
from .diagnostics import CODES, Diagnostic, Span, plural
from .render import FORMATS, render_gcc, render_json, render_text

EXIT_OK, EXIT_ERRORS, EXIT_INTERNAL = 0, 1, 3  # usage errors exit 2, through click


def read_source(path: str) -> str:
    """A spec's text; undecodable bytes become U+FFFD and are reported as such."""
    data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    return data.decode("utf-8-sig", errors="replace")


def _expand(paths: tuple[str, ...]) -> list[str]:
    files: list[str] = []
    for path in paths:
        if path != "-" and Path(path).is_dir():
            found = sorted(str(p) for p in Path(path).rglob("*.nn"))
            if not found:
                raise click.UsageError(f"no .nn files in {path}")
            files.extend(found)
        else:
            files.append(path)
    return files


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _display(path: str) -> str:
    return "<stdin>" if path == "-" else path


def _compile(path: str) -> tuple[str, Result]:
    try:
        text = read_source(path)
    except OSError as err:
        diag = Diagnostic("E900", f"cannot read file: {err.strerror}", Span(1, 1, 1, 1))
        return "", Result(None, None, [diag])
    return text, compile_text(text)


def _print_diagnostics(path: str, text: str, result: Result, fmt: str) -> None:
    if not result.diagnostics:
        return
    if fmt == "gcc":
        click.echo(render_gcc(_display(path), result.diagnostics))
    else:
        click.echo(render_text(_display(path), result.diagnostics, text, colour=_colour()))


def _exit_code(results: list[Result], strict: bool) -> int:
    diags = [d for r in results for d in r.diagnostics]
    if any(d.code == "E900" for d in diags):
        return EXIT_INTERNAL
    if any(d.is_error for d in diags) or (strict and diags):
        return EXIT_ERRORS
    return EXIT_OK


EPILOG_CHECK = """\b
Examples:
  nnspec check specs/mnist_cnn.nn
  nnspec check specs/                 every .nn file below specs/
  cat model.nn | nnspec check -       read from standard input
  nnspec check --format json specs/   machine-readable diagnostics
"""

EPILOG_SUMMARY = """\b
Examples:
  nnspec summary specs/mnist_cnn.nn
  nnspec summary --format json specs/text_classifier.nn
"""


@click.group(epilog="""\b
Examples:
  nnspec check specs/            validate every spec, without TensorFlow
  nnspec summary specs/mnist_cnn.nn
  nnspec codes                   list every diagnostic code
""")
@click.version_option(__version__, prog_name="nnspec")
def main() -> None:
    """nnspec: declare a Keras model in a .nn spec; check it, summarise it."""


@main.command(epilog=EPILOG_CHECK)
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def check(paths: tuple[str, ...], fmt: str, strict: bool) -> None:
    """Check specs: syntax, names, graph, shapes, losses and data.

    PATHS are .nn files, directories (every .nn inside) or - for standard input.
    Exit status: 0 clean, 1 errors (or warnings with --strict), 2 usage, 3 internal error.
    """
    for path in paths:
        if path != "-" and not Path(path).exists():
            raise click.UsageError(f"no such file or directory: {path}")
    files = _expand(paths)
    results = []
    for path in files:
        text, result = _compile(path)
        results.append(result)
        if fmt == "json":
            continue
        _print_diagnostics(path, text, result, fmt)
        errors = len(result.errors)
        warnings = len(result.diagnostics) - errors
        verdict = (
            "ok"
            if not result.diagnostics
            else ", ".join(
                p
                for p in (
                    errors and plural(errors, "error"),
                    warnings and plural(warnings, "warning"),
                )
                if p
            )
        )
        if fmt == "text":
            click.echo(f"{_display(path)}: {verdict}")
    if fmt == "json":
        click.echo(render_json([(_display(p), r.diagnostics) for p, r in zip(files, results)]))
    else:
        failed = sum(1 for r in results if not r.ok)
        if fmt == "text" and len(files) > 1:
            click.echo(
                f"checked {plural(len(files), 'file')}: {len(files) - failed} ok, {failed} with errors"
            )
    sys.exit(_exit_code(results, strict))


@main.command(epilog=EPILOG_SUMMARY)
@click.argument("spec")
@click.option(
    "--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True
)
def summary(spec: str, fmt: str) -> None:
    """Print the layer table of SPEC: output shapes and parameter counts."""
    from .summary import as_dict, render

    if spec != "-" and not Path(spec).is_file():
        raise click.UsageError(f"no such file: {spec}")
    text, result = _compile(spec)
    if not result.ok or result.model is None:
        _print_diagnostics(spec, text, result, "text")
        sys.exit(_exit_code([result], False) or EXIT_ERRORS)
    if fmt == "json":
        click.echo(json.dumps(as_dict(result.model), indent=2))
    else:
        click.echo(render(result.model))


@main.command(epilog="""\b
Examples:
  nnspec codes
  nnspec codes | grep E4      the training-setup checks
""")
def codes() -> None:
    """List every diagnostic code with its meaning."""
    for code, meaning in CODES.items():
        click.echo(f"{code}  {meaning}")


if __name__ == "__main__":
    main()
