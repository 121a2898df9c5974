"""The `nnspec` command line."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

import nnspec
from nnspec import __version__
from nnspec.diagnostics.codes import CODES
from nnspec.diagnostics.formats import FORMATS, render_gcc, render_json, render_sarif, render_text
from nnspec.diagnostics.wording import plural
from nnspec.errors import InternalError, NnspecError, UsageError, internal_error

if TYPE_CHECKING:  # the compiler is imported by the commands that compile
    from nnspec.check.pipeline import Result

EXIT_OK, EXIT_ERRORS, EXIT_INTERNAL = 0, 1, 3  # usage errors exit 2, through click
ONE_SHOT = frozenset(("check", "summary", "gen", "fmt", "import"))  # run without the gc


def read_source(path: str) -> str:
    """A spec's text; undecodable bytes become U+FFFD and are reported as such."""
    from nnspec.files import read_input

    return read_input(path).decode("utf-8-sig", errors="replace")


def _write(path: str, text: str) -> None:
    """Write an output file whole; one that cannot be written is a usage error."""
    from nnspec.files import write_atomic

    try:
        write_atomic(path, text)
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or err}") from None
    click.echo(f"wrote {path}", err=True)


def _fail(err: NnspecError, where: str | None = None) -> NoReturn:
    """Report one of nnspec's own errors, its hints on lines of their own, and exit with
    its status: a usage error as click reports one, a bug in nnspec as E900."""
    label, message, hints = "error", err.message, err.hints
    if isinstance(err, InternalError):
        diag = internal_error(err)
        label, message, hints = f"error[{diag.code}]", diag.message, diag.hints
    hint_lines = [f"  = hint: {hint}" for hint in hints]
    if isinstance(err, UsageError):
        raise click.UsageError("\n".join([message, *hint_lines]), click.get_current_context())
    for line in message.splitlines():
        click.echo(f"{where}: {label}: {line}" if where else f"{label}: {line}", err=True)
    for line in hint_lines:
        click.echo(line, err=True)
    sys.exit(err.exit_status)


# Modules of the `tf` extra: `run`, `predict` and `.h5` import need them, checking does not.
TF_EXTRA = frozenset(["tensorflow", "keras", "absl", "h5py", "sklearn", "matplotlib", "pandas"])


def _missing_extra(err: ModuleNotFoundError) -> UsageError | None:
    """A module of the `tf` extra that is not installed, as a usage error saying what to
    install; None for any other missing module (a bug in nnspec)."""
    module = (err.name or "").split(".")[0]
    if module not in TF_EXTRA:
        return None
    return UsageError(
        f"this command needs {module}, which is not installed",
        [
            'install nnspec with TensorFlow: pip install "nnspec[tf]" ("nnspec[gpu]" with an NVIDIA GPU)'
        ],
    )


class _Command(click.Command):
    """A command whose nnspec errors, wherever raised, are reported by `_fail`, as is
    a missing optional dependency."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NnspecError as err:
            _fail(err)
        except ModuleNotFoundError as err:
            missing = _missing_extra(err)
            _fail(missing or InternalError(f"{type(err).__name__}: {err}"))
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as err:  # noqa: BLE001  (a bug in nnspec: E900 and exit 3, no traceback)
            _fail(InternalError(f"{type(err).__name__}: {err}"))


class _Commands(click.Group):
    command_class = _Command


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
    text = read_source(path)
    return text, nnspec.compile_text(text)


def _print_diagnostics(path: str, text: str, result: Result, fmt: str, err=False) -> None:
    if not result.diagnostics:
        return
    if fmt == "gcc":
        click.echo(render_gcc(_display(path), result.diagnostics), err=err)
    else:
        colour = (sys.stderr if err else sys.stdout).isatty() and "NO_COLOR" not in os.environ
        click.echo(render_text(_display(path), result.diagnostics, text, colour=colour), err=err)


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
  nnspec check --format sarif specs/ > nnspec.sarif   for GitHub code scanning
"""

EPILOG_SUMMARY = """\b
Examples:
  nnspec summary specs/mnist_cnn.nn
  nnspec summary --format json specs/text_classifier.nn
"""


@click.group(
    cls=_Commands,
    epilog="""\b
Examples:
  nnspec run specs/mnist_cnn.nn     train, evaluate and save, in runs/
  nnspec gen specs/mnist_cnn.nn -o mnist_cnn.py
  nnspec check specs/               validate every spec, without TensorFlow
  nnspec summary specs/mnist_cnn.nn
  nnspec fmt specs/                 the canonical layout, comments kept
  nnspec import model.keras -o model.nn
  nnspec codes                      list every diagnostic code
""",
)
@click.version_option(__version__, prog_name="nnspec")
@click.pass_context
def main(ctx: click.Context) -> None:
    """nnspec: declare a Keras model in a .nn spec; check, train or generate it."""
    if ctx.invoked_subcommand in ONE_SHOT and gc.isenabled():
        # These commands compile and exit: the cyclic collector would rescan the many
        # small objects the stages keep (a third of the time on a 10,000-layer spec)
        # to find about 30 cycles a spec. Back on when the command ends (in-process
        # callers); `run` and the language server keep it on throughout.
        gc.disable()
        ctx.call_on_close(gc.enable)


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
    texts = [read_source(path) for path in files]  # nothing is checked if one cannot be read
    results = []
    for path, text in zip(files, texts):
        result = nnspec.compile_text(text)
        results.append(result)
        if fmt in ("json", "sarif"):
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
    if fmt in ("json", "sarif"):
        renderer = render_json if fmt == "json" else render_sarif
        click.echo(renderer([(_display(p), r.diagnostics) for p, r in zip(files, results)]))
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
@click.option("--blocks", is_flag=True, help="One row per block use instead of its layers.")
def summary(spec: str, fmt: str, blocks: bool) -> None:
    """Print the layer table of SPEC: output shapes and parameter counts."""
    from nnspec.check.summary import as_dict, render_summary

    if spec != "-" and not Path(spec).is_file():
        raise click.UsageError(f"no such file: {spec}")
    text, result = _compile(spec)
    if not result.ok or result.model is None:
        _print_diagnostics(spec, text, result, "text")
        sys.exit(_exit_code([result], False) or EXIT_ERRORS)
    if fmt == "json":
        import json

        click.echo(json.dumps(as_dict(result.model, blocks), indent=2))
    else:
        click.echo(render_summary(result.model, blocks))


EPILOG_GEN = """\b
Examples:
  nnspec gen specs/mnist_cnn.nn -o mnist_cnn.py     then: python mnist_cnn.py
  nnspec gen specs/residual_block.nn                 print the script
  nnspec gen --api functional specs/mnist_mlp.nn -o mlp.py
  nnspec gen --check specs/mnist_cnn.nn -o mnist_cnn.py   CI: is the file up to date?
"""


def _checked_model(spec: str):
    """Compile SPEC; on errors print them (to stderr) and exit 1 (3: internal error)."""
    if spec != "-" and not Path(spec).is_file():
        raise click.UsageError(f"no such file: {spec}")
    text, result = _compile(spec)
    if not result.ok or result.model is None:
        _print_diagnostics(spec, text, result, "text", err=True)
        sys.exit(_exit_code([result], False) or EXIT_ERRORS)
    return text, result


@main.command(epilog=EPILOG_GEN)
@click.argument("spec")
@click.option(
    "-o", "--output", default="-", show_default=True, help="Script to write; - prints it."
)
@click.option(
    "--api",
    type=click.Choice(("auto", "sequential", "functional")),
    default="auto",
    show_default=True,
    help="auto: Sequential for a plain chain, Functional otherwise.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Folder with mnist.npz and the Fashion-MNIST files: the script reads them instead of downloading.",
)
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Write nothing; exit 1 with a diff if OUTPUT is out of date.",
)
def gen(spec: str, output: str, api: str, data_dir: str | None, check_only: bool) -> None:
    """Write the standalone tf.keras script for SPEC (without importing TensorFlow)."""
    from nnspec.files import read_input, unified_diff
    from nnspec.keras.codegen import render_script
    from nnspec.keras.emitters import GenError

    text, result = _checked_model(spec)
    try:
        script = render_script(result.model, _display(spec), api, data_dir, result.spec)
    except GenError as err:
        _cannot_express(spec, text, err)
    if check_only:
        if output == "-":
            raise click.UsageError("--check needs -o FILE, the generated file to compare")
        current = read_input(output).decode(errors="replace") if Path(output).is_file() else ""
        if current == script:
            click.echo(f"{output}: up to date")
            return
        diff = unified_diff(
            current, script, f"{output} (on disk)", f"{output} (from {_display(spec)})"
        )
        click.echo(diff, nl=False)
        click.echo(
            f"{output}: out of date with {_display(spec)}; run: nnspec gen {spec} -o {output}",
            err=True,
        )
        sys.exit(EXIT_ERRORS)
    if output == "-":
        click.echo(script, nl=False)
    else:
        _write(output, script)


EPILOG_RUN = """\b
Examples:
  nnspec run specs/mnist_cnn.nn
  nnspec run specs/digits_classifier.nn --epochs 1 --out runs/try
  nnspec run specs/mnist_cnn.nn --set fit.batch_size=128 --set "compile.optimizer=adam(learning_rate=3e-4)"
  nnspec run specs/mnist_cnn.nn --resume          continue the last interrupted run
  nnspec run specs/mnist_cnn.nn --strategy mirrored   every local GPU
"""


@main.command(epilog=EPILOG_RUN)
@click.argument("spec")
@click.option("--epochs", type=click.IntRange(min=1), help="Same as --set fit.epochs=N.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Same as --set fit.batch_size=N.")
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    help="Same as --set data.seed=N: split, weights and shuffling.",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="BLOCK.KEY=VALUE or PARAM=VALUE",
    help="Override a spec value: fit.epochs=1, data.limit=500, dense_1.units=64 (a layer), width=128 (a param); checked like the spec.",
)
@click.option(
    "--out", type=click.Path(file_okay=False), help="Run folder [default: runs/MODEL-TIMESTAMP]."
)
@click.option(
    "--device", type=click.Choice(("auto", "cpu", "gpu")), default="auto", show_default=True
)
@click.option(
    "--strategy",
    type=click.Choice(("auto", "one", "mirrored", "multiworker")),
    default="auto",
    show_default=True,
    help="auto: mirrored over several GPUs, else the default strategy.",
)
@click.option(
    "--replicas",
    type=click.IntRange(min=1),
    help="mirrored without GPUs: split the CPU into N logical devices.",
)
@click.option("--mixed-precision", is_flag=True, help="mixed_float16 on GPUs.")
@click.option(
    "--rendezvous-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=300,
    show_default=True,
    help="multiworker: seconds to wait for the other workers to start.",
)
@click.option("--resume", is_flag=True, help="Continue an interrupted run (--out, or the latest).")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    envvar="NNSPEC_DATA_DIR",
    help="Folder with mnist.npz and the Fashion-MNIST files [env: NNSPEC_DATA_DIR].",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
def run(
    spec,
    epochs,
    batch_size,
    seed,
    sets,
    out,
    device,
    strategy,
    replicas,
    mixed_precision,
    rendezvous_timeout,
    resume,
    data_dir,
    quiet,
) -> None:
    """Train, evaluate and save the model of SPEC (imports TensorFlow).

    The run folder gets the model, history.json, history.csv, metrics.json,
    summary.txt and curves.png. Ctrl-C stops after saving; --resume goes on.
    """
    from nnspec.check.overrides import Override, apply
    from nnspec.keras.native_logs import filtered_stderr
    from nnspec.keras.train import Options

    text, result = _compile(spec) if spec == "-" or Path(spec).is_file() else (None, None)
    if result is None:
        raise click.UsageError(f"no such file: {spec}")
    shorthands = [("fit.epochs", epochs), ("fit.batch_size", batch_size), ("data.seed", seed)]
    overrides = [Override.parse(s) for s in sets]
    overrides += [Override.parse(f"{k}={v}") for k, v in shorthands if v is not None]
    if overrides and result.spec is not None:
        text = apply(text, result.spec, result.model, overrides)
        result = nnspec.compile_text(text)
    shown = _display(spec) + (" (with --set)" if overrides else "")
    if not result.ok or result.model is None:
        _print_diagnostics(shown, text, result, "text")
        sys.exit(_exit_code([result], False) or EXIT_ERRORS)
    options = Options(
        out,
        device,
        strategy,
        replicas,
        mixed_precision,
        resume,
        quiet,
        data_dir,
        bool(overrides),
        rendezvous_timeout,
    )
    with filtered_stderr():
        _train(spec, text, result.model, options)


def _cannot_express(spec: str, text: str, err) -> NoReturn:
    """What the Keras back ends cannot express (a `GenError`), as diagnostics."""
    click.echo(render_text(_display(spec), err.diagnostics, text, colour=_colour()), err=True)
    sys.exit(err.exit_status)


def _train(spec, text, model, options) -> None:
    from nnspec.keras.emitters import GenError
    from nnspec.keras.train import train

    try:
        train(spec, text, model, options, click.echo)
    except GenError as err:
        _cannot_express(spec, text, err)
    except NnspecError as err:
        _fail(err, _display(spec))
    except Exception as err:  # noqa: BLE001  (TensorFlow's own errors, without a traceback)
        if isinstance(err, ModuleNotFoundError) and (missing := _missing_extra(err)):
            _fail(missing)
        peers = type(err).__name__ in ("UnavailableError", "DeadlineExceededError", "AbortedError")
        click.echo(
            f"{_display(spec)}: error: training failed: {type(err).__name__}: {_cause(str(err))}",
            err=True,
        )
        if peers:  # a worker that died or cannot be reached: the cluster's fault, not nnspec's
            sys.exit(EXIT_ERRORS)
        click.echo(
            "  = hint: the spec checked clean, so this is a bug in nnspec: please report it",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)


def _cause(message: str) -> str:
    """TensorFlow's message without the Python stack it embeds after "Detected at
    node ... defined at (most recent call last):"."""
    kept, in_stack = [], False
    for line in message.strip().splitlines():
        if line.startswith("Detected at node"):
            in_stack = True
        elif not in_stack or (line.strip() and not line.startswith(" ")):
            in_stack = False
            if not line.strip().startswith("[[{{node"):  # the graph node, not the cause
                kept.append(line.rstrip())
    return "\n  ".join(line for line in kept if line.strip())


@main.command(epilog="""\b
Examples:
  nnspec predict runs/digits_classifier-20261124-101500 --input samples.npy
  nnspec predict model.keras --input rows.csv --output predictions.csv
""")
@click.argument("model", type=click.Path(exists=True))
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help=".npy array or .csv of samples, one per row.",
)
@click.option("--output", type=click.Path(dir_okay=False), help="CSV to write [default: print].")
@click.option(
    "--prepared",
    is_flag=True,
    help="The samples are preprocessed already: skip the run's preprocessing.",
)
def predict(model: str, input_path: str, output: str | None, prepared: bool) -> None:
    """Predict with a saved model (a .keras/.h5 file or a run folder). Samples
    given to a run folder are raw, like its data's: the run's preprocessing
    (reshape, scale, standardization) is applied to them, and named."""
    from nnspec.files import check_writable
    from nnspec.keras.native_logs import filtered_stderr
    from nnspec.keras.predict import predict_file

    if output:
        check_writable(output)  # before TensorFlow loads, not after it predicted
    with filtered_stderr():
        table, applied = predict_file(model, input_path, prepared)
    if applied:
        click.echo(
            f"nnspec predict: applied the run's preprocessing: {', '.join(applied)}", err=True
        )
    if output:
        _write(output, table)
    else:
        click.echo(table, nl=False)


@main.command(epilog="""\b
Examples:
  nnspec codes
  nnspec codes | grep E4      the training-setup checks
  nnspec codes E301           what E301 means, a spec that raises it, the fix
""")
@click.argument("explain", nargs=-1, metavar="[CODE]...")
def codes(explain: tuple[str, ...]) -> None:
    """List every diagnostic code with its meaning, or explain the CODEs given."""
    if not explain:
        for code, meaning in CODES.items():
            click.echo(f"{code}  {meaning}")
        return
    from nnspec.diagnostics.explanations import explain as explanation

    wanted = [_known_code(code) for code in explain]
    click.echo("\n\n".join(explanation(code, CODES[code]) for code in wanted))


def _known_code(code: str) -> str:
    """`code` in capitals, or a usage error naming the closest code."""
    if code.upper() in CODES:
        return code.upper()
    from nnspec.diagnostics.wording import did_you_mean

    hints = did_you_mean(code.upper(), CODES) or ("`nnspec codes` lists every code",)
    raise UsageError(f"unknown diagnostic code `{code}`", hints)


@main.command(epilog="""\b
Examples:
  nnspec lsp        editors start it; see docs/editors.md (VS Code, Neovim, Helix)
""")
@click.option("--stdio", is_flag=True, help="Talk over stdin/stdout (the default; for editors).")
def lsp(stdio: bool) -> None:
    """Run the language server: diagnostics, hover, completion, go to
    definition, references, outline and formatting for .nn files."""
    from nnspec.lsp import serve

    serve()


@main.command(epilog="""\b
Examples:
  nnspec fmt specs/                 rewrite every .nn file below specs/ in place
  nnspec fmt --check specs/         CI: exit 1 if a file is not formatted
  nnspec fmt --diff model.nn        show the changes, write nothing
  cat model.nn | nnspec fmt -       print the formatted spec
""")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--check", "check_only", is_flag=True, help="Write nothing; exit 1 if a file would change."
)
@click.option("--diff", is_flag=True, help="Write nothing; print a unified diff of the changes.")
def fmt(paths: tuple[str, ...], check_only: bool, diff: bool) -> None:
    """Rewrite specs in the canonical layout, keeping every comment.

    PATHS are .nn files, directories (every .nn inside) or - (standard input to
    standard output). A file with syntax errors is reported and left as it is.
    Exit status: 0 done, 1 syntax errors (or files to reformat with --check).
    """
    from nnspec.syntax.fmt import format_paths

    for path in paths:
        if path != "-" and not Path(path).exists():
            raise click.UsageError(f"no such file or directory: {path}")
    sys.exit(format_paths(_expand(paths), check_only, diff, _colour()))


@main.command(
    "import",
    epilog="""\b
Examples:
  nnspec import model.keras -o model.nn
  nnspec import model.h5                  print the spec
  nnspec import architecture.json -o model.nn   the JSON of model.to_json()
  nnspec import model.keras --flat        every layer, no blocks or loops
""",
)
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", default="-", show_default=True, help="Spec to write; - prints it.")
@click.option("--flat", is_flag=True, help="Write every layer: no blocks or loops.")
def import_(model: str, output: str, flat: bool) -> None:
    """Write the .nn spec of a Keras model file (.keras, .h5 or to_json() JSON).

    Reads the architecture only, without TensorFlow, and the compile settings
    where the file has them. Repeated structure is written as blocks and loops
    that make exactly the model's layers and names (docs/import.md), unless
    --flat. Layers or arguments nnspec cannot express are reported (exit 1) and
    nothing is written; compile settings it cannot express are left out with a
    note.
    """
    from nnspec.keras.importer import import_file

    try:
        imported = import_file(model, flat)
    except NnspecError as err:
        _fail(err, model)
    for note in imported.notes:
        click.echo(f"{model}: note: {note}", err=True)
    if output == "-":
        click.echo(imported.text, nl=False)
    else:
        _write(output, imported.text)


if __name__ == "__main__":
    main()
