"""`nnspec lsp` on parameters, blocks, loops and conditions, through a real LSP
client (pygls's) talking to the server process over stdio: diagnostics found inside
a block with its uses as related information, hover on a block use (its output
shape, parameters and arguments, per expansion) and on a layer inside a block (its
shapes per use), definitions and references between blocks and their uses,
parameters and their uses, loop variables and block-local names, the outline, and
completion of blocks with their parameters. Every token of specs/resnet50.nn and
specs/mobilenet_v2.nn is asked every question once, with no error."""

from __future__ import annotations

import re

from helpers import ROOT
from lsprotocol import types
from test_lsp import Session, at, doc, run

from nnspec.check.pipeline import compile_text

# Copies of specs/resnet50.nn and specs/mobilenet_v2.nn, so that the figures asserted
# here stay put while those files change; every spec with blocks or parameters in
# specs/ goes through test_every_token_of_the_block_specs_is_answered as it is.
Kind = types.CompletionItemKind

RESNET = """\
model resnet50 "ResNet50 (He et al., 2015) for 224x224 RGB images and 1,000 classes"

input input_layer: (224, 224, 3)  # keras.applications.ResNet50's layer names; 25,636,712 parameters

block unit(filters, kernel=1, stride=1, padding="valid", act=true) {
    conv = Conv2D(filters, kernel, strides=stride, padding=padding)
    bn = BatchNormalization(epsilon=1.001e-5)
    if act {
        relu = Activation(relu)
    }
}

block bottleneck(filters, stride=1, project=false) {  # the first of a stage projects its shortcut
    input x
    "1" = unit(filters, stride=stride)
    "2" = unit(filters, 3, padding="same")
    "3" = unit(4 * filters, act=false)
    add = Add()
    out = Activation(relu)
    if project {
        "0" = unit(4 * filters, stride=stride, act=false)
        x -> "0" -> add
    } else {
        x -> add
    }
    x -> "1" -> "2" -> "3" -> add -> out
    output out
}

sequential {
    conv1_pad = ZeroPadding2D(3)
    conv1 = unit(64, 7, stride=2)
    pool1_pad = ZeroPadding2D(1)
    pool1_pool = MaxPooling2D(3, strides=2)
    for (n, filters, blocks, s) in [(2, 64, 3, 1), (3, 128, 4, 2), (4, 256, 6, 2), (5, 512, 3, 2)] {
        "conv{n}_block1" = bottleneck(filters, s, project=true)
        for i in range(2, blocks + 1) {
            "conv{n}_block{i}" = bottleneck(filters)
        }
    }
    avg_pool = GlobalAveragePooling2D()
    predictions = Dense(1000, activation=softmax)
}

compile { loss: categorical_crossentropy, optimizer: adam, metrics: [accuracy] }
"""
MOBILENET = """\
# keras.applications.MobileNetV2 (alpha 1.0, 224x224) with Keras's own layer names: 3,538,984 parameters.
model mobilenet_v2 "MobileNetV2 (Sandler et al., 2018) for 224x224 RGB images and 1,000 classes"

input input_layer: (224, 224, 3)

# The inverted residual block without its shortcut: expand, filter depthwise, project.
block inverted(in_channels, filters, stride, expansion, widen=true) {
    if widen {
        expand = Conv2D(expansion * in_channels, 1, padding="same", use_bias=false)
        expand_BN = BatchNormalization(epsilon=1e-3, momentum=0.999)
        expand_relu = ReLU(6.0)
    }
    if stride == 2 {
        pad = ZeroPadding2D(((0, 1), (0, 1)))
        depthwise = DepthwiseConv2D(3, strides=2, use_bias=false)
    } else {
        depthwise = DepthwiseConv2D(3, padding="same", use_bias=false)
    }
    depthwise_BN = BatchNormalization(epsilon=1e-3, momentum=0.999)
    depthwise_relu = ReLU(6.0)
    project = Conv2D(filters, 1, padding="same", use_bias=false)
    project_BN = BatchNormalization(epsilon=1e-3, momentum=0.999)
}

# The same with its shortcut, where the block keeps its shape.
block residual(filters, expansion) {
    input x
    add = Add()
    x -> add
    x -> inverted(filters, filters, 1, expansion) -> add
    output add
}

# (first block, blocks, input channels, filters, stride) of each stage after the first.
param stages = [
    (1, 2, 16, 24, 2),
    (3, 3, 24, 32, 2),
    (6, 4, 32, 64, 2),
    (10, 3, 64, 96, 1),
    (13, 3, 96, 160, 2),
    (16, 1, 160, 320, 1),
]

sequential {
    Conv1 = Conv2D(32, 3, strides=2, padding="same", use_bias=false)
    bn_Conv1 = BatchNormalization(epsilon=1e-3, momentum=0.999)
    Conv1_relu = ReLU(6.0)
    expanded_conv = inverted(32, 16, 1, 1, widen=false)
    for (first, blocks, in_channels, filters, stride) in stages {
        "block_{first}" = inverted(in_channels, filters, stride, 6)
        if blocks > 1 {
            for i in range(first + 1, first + blocks) {
                "block_{i}" = residual(filters, 6)
            }
        }
    }
    Conv_1 = Conv2D(1280, 1, use_bias=false)
    Conv_1_bn = BatchNormalization(epsilon=1e-3, momentum=0.999)
    out_relu = ReLU(6.0)
    GlobalAveragePooling2D()
    predictions = Dense(1000, activation=softmax)
}

compile { loss: categorical_crossentropy, optimizer: adam, metrics: [accuracy] }
"""

HEADS = """\
input x: (8,)

block head(units, rate=0.5) {
    Dense(units, activation=relux)
    Dropout(rate)
}

sequential {
    a = head(4)
    b = head(2, rate=0.1)
}
"""


def span_of(text: str, needle: str, offset: int = 0, length: int | None = None) -> types.Range:
    """The range of `needle` (or `length` characters of it from `offset`) in `text`."""
    size = len(needle) - offset if length is None else length
    return types.Range(at(text, needle, offset), at(text, needle, offset + size))


async def hover_text(s: Session, uri: str, text: str, needle: str, offset: int = 0) -> str:
    found = await s.request(
        s.client.text_document_hover_async(
            types.HoverParams(text_document=doc(uri), position=at(text, needle, offset))
        )
    )
    assert found is not None, needle
    return found.contents.value


async def definition(s: Session, uri: str, position: types.Position):
    return await s.request(
        s.client.text_document_definition_async(
            types.DefinitionParams(text_document=doc(uri), position=position)
        )
    )


async def references(s: Session, uri: str, position: types.Position) -> list[types.Position]:
    found = await s.request(
        s.client.text_document_references_async(
            types.ReferenceParams(
                text_document=doc(uri),
                position=position,
                context=types.ReferenceContext(include_declaration=True),
            )
        )
    )
    return [r.range.start for r in found]


async def completion(s: Session, uri: str, position: types.Position) -> dict:
    """The candidates by label and kind: an argument and a loop variable may share
    a name (`filters=` and `filters`)."""
    found = await s.request(
        s.client.text_document_completion_async(
            types.CompletionParams(text_document=doc(uri), position=position)
        )
    )
    return {(item.label, item.kind): item for item in found.items}


def labels(items: dict) -> set[str]:
    return {label for label, _ in items}


def test_diagnostics_in_a_block_name_its_uses(tmp_path):
    uri = (tmp_path / "heads.nn").as_uri()

    async def scenario(s: Session) -> None:
        [diag] = await s.open(uri, HEADS)
        assert diag.code == "E108"
        assert diag.range == span_of(HEADS, "relux")
        assert "hint: found in 2 uses of `head`" in diag.message
        related = [(r.message, r.location.uri, r.location.range) for r in diag.related_information]
        assert related == [
            ("in `head` used at 9:5 with units=4, rate=0.5", uri, span_of(HEADS, "a = head(4)")),
            (
                "also in `head` used at 10:5 with units=2, rate=0.1",
                uri,
                span_of(HEADS, "b = head(2, rate=0.1)"),
            ),
        ]
        # the same as `nnspec check`'s, and a spec without blocks has none
        [want] = compile_text(HEADS).diagnostics
        assert [r.message for r in diag.related_information] == [r.message for r in want.related]
        flat = "input x: (8,)\nsequential {\n    Dense(4, activation=relux)\n}\n"
        [plain] = await s.open((tmp_path / "flat.nn").as_uri(), flat)
        assert plain.code == "E108" and plain.related_information is None

    run(scenario)


def test_hover_on_block_uses_and_layers_inside_blocks(tmp_path):
    uri = (tmp_path / "resnet50.nn").as_uri()
    mobile = (tmp_path / "mobilenet_v2.nn").as_uri()

    async def scenario(s: Session) -> None:
        assert await s.open(mobile, MOBILENET) == []
        assert await s.open(uri, RESNET) == []
        text = await hover_text(s, uri, RESNET, "unit(64, 7", 1)
        assert text.startswith(
            "**conv1**: `unit` block · output shape `(None, 112, 112, 64)` · 9,728 parameters "
            "(9,600 trainable, 128 non-trainable) · 3 layers\n"
            'with filters=64, kernel=7, stride=2, padding="valid", act=true'
        )
        assert '`unit(filters, kernel=1, stride=1, padding="valid", act=true)`' in text
        assert "- `kernel=7`" in text and "- `act` default `true`" in text

        # a use in loops: one line per expansion, with its arguments
        text = await hover_text(s, uri, RESNET, "bottleneck(filters)", 1)
        assert text.startswith('**"conv{n}_block{i}"**: `bottleneck` block · used 12 times\n')
        assert (
            "- **conv2_block2** (filters=64, stride=1, project=false): output shape "
            "`(None, 56, 56, 256)` · 71,552 parameters" in text
        )
        assert "\n\nthe first of a stage projects its shortcut\n" in text

        # a layer inside a block: its shapes in every use
        text = await hover_text(s, uri, RESNET, "conv = Conv2D")
        assert text.startswith("**conv**: `Conv2D` layer · 53 instances\n")
        assert "- **conv1_conv**: output shape `(None, 112, 112, 64)` · 9,472 parameters" in text
        assert "- **conv2_block1_1_conv**: output shape `(None, 56, 56, 64)`" in text
        assert "- … and 41 more" in text
        assert "- `filters=filters`: number of output channels" in text

        # `if` and `else` define a layer each: the instances of each
        first = await hover_text(s, mobile, MOBILENET, "depthwise = DepthwiseConv2D(3, s")
        other = await hover_text(s, mobile, MOBILENET, "depthwise = DepthwiseConv2D(3, p")
        assert first.startswith("**depthwise**: `DepthwiseConv2D` layer · 4 instances\n")
        assert "- **block_1_depthwise**: output shape `(None, 56, 56, 96)`" in first
        assert other.startswith("**depthwise**: `DepthwiseConv2D` layer · 13 instances\n")
        assert "- **expanded_conv_depthwise**: output shape `(None, 112, 112, 32)`" in other

        # names: a block parameter, a loop variable in a name template, a port, a block
        text = await hover_text(s, uri, RESNET, "act {", 1)
        assert text == "**act**: parameter of block `unit` · default `true`"
        text = await hover_text(s, uri, RESNET, 'n}_block{i}" = bottleneck(filters)')
        assert text.startswith("**n**: loop variable · over `[(2, 64, 3, 1),")
        text = await hover_text(s, uri, RESNET, "x ->")
        assert text.startswith("**x**: input of block `bottleneck`\n\nfed:\n")
        assert "- **conv3_block1**: `(None, 56, 56, 256)`" in text
        text = await hover_text(s, uri, RESNET, "bottleneck(filters, stride=1")
        assert text.startswith("**bottleneck**: block\n\n`bottleneck(filters, stride=1, proj")
        assert "expanded 16 times: conv2_block1, conv2_block2," in text

        # a layer a loop makes in no block: no uses, one instance per pass
        looped = (
            "input x: (4,)\nsequential {\n    for i in range(3) {\n        Dense(8)\n    }\n}\n"
        )
        loop_uri = (tmp_path / "loop.nn").as_uri()
        assert await s.open(loop_uri, looped) == []
        text = await hover_text(s, loop_uri, looped, "Dense")
        assert text.startswith("**dense**: `Dense` layer · 3 instances\n- **dense**: output")
        assert "- **dense_2**: output shape `(None, 8)` · 72 parameters" in text

    run(scenario)


def test_definitions_and_references(tmp_path):
    uri = (tmp_path / "resnet50.nn").as_uri()
    mobile = (tmp_path / "mobilenet_v2.nn").as_uri()

    async def scenario(s: Session) -> None:
        await s.open(uri, RESNET)

        async def goes_to(needle: str, offset: int, target: str, target_offset: int = 0) -> None:
            found = await definition(s, uri, at(RESNET, needle, offset))
            assert found.range.start == at(RESNET, target, target_offset), needle

        await goes_to("bottleneck(filters)", 0, "bottleneck(filters, stride=1")  # block
        await goes_to("unit(4 * filters, stride", 0, "unit(filters, kernel")
        await goes_to("stride=stride)\n", 0, "stride=1, padding")  # argument -> parameter
        await goes_to("stride=stride)\n", 7, "stride=1, project")  # its value -> the other
        await goes_to("4 * filters, act", 4, "filters, stride=1, project")
        await goes_to('n}_block{i}"', 0, "n, filters, blocks")  # loop variable in a template
        await goes_to("blocks + 1", 0, "blocks, s)")
        await goes_to("add -> out", 0, "add = Add()")  # block-local layer
        await goes_to('"3" -> add', 0, '"3" = unit')
        await goes_to("x -> add", 0, "x\n", 0)  # port

        # a block: its definition, and every use, named or inline
        uses = await references(s, uri, at(RESNET, "unit(filters, kernel"))
        assert uses == [
            at(RESNET, "unit(filters, kernel"),
            at(RESNET, "unit(filters, stride"),
            at(RESNET, 'unit(filters, 3, padding="same")'),
            at(RESNET, "unit(4 * filters, act"),
            at(RESNET, "unit(4 * filters, stride"),
            at(RESNET, "unit(64, 7"),
        ]
        # a block parameter: in the body, and as the keyword of its block's calls
        stride = await references(s, uri, at(RESNET, "stride=1, padding"))
        assert stride == [
            at(RESNET, "stride=1, padding"),
            at(RESNET, "stride, padding=padding"),
            at(RESNET, "stride=stride)\n"),
            at(RESNET, "stride=stride, act"),
            at(RESNET, "stride=2)"),
        ]
        # a name local to a block is not the same name elsewhere
        relu = await references(s, uri, at(RESNET, "relu = Activation"))
        assert relu == [at(RESNET, "relu = Activation")]

        # a parameter of the spec: its definition and its use
        await s.open(mobile, MOBILENET)
        found = await definition(s, mobile, at(MOBILENET, "stages {"))
        assert found.range == span_of(MOBILENET, "stages = [", 0, 6)
        uses = await references(s, mobile, at(MOBILENET, "stages = ["))
        assert uses == [at(MOBILENET, "stages = ["), at(MOBILENET, "stages {")]
        # a name that `if` and `else` both define: both places
        both = [
            at(MOBILENET, "depthwise = DepthwiseConv2D(3, s"),
            at(MOBILENET, "depthwise = DepthwiseConv2D(3, p"),
        ]
        found = await definition(s, mobile, both[1])
        assert [f.range.start for f in found] == both
        assert await references(s, mobile, both[0]) == both

    run(scenario)


def test_outline_lists_parameters_blocks_and_their_layers(tmp_path):
    uri = (tmp_path / "mobilenet_v2.nn").as_uri()
    resnet = (tmp_path / "resnet50.nn").as_uri()

    async def scenario(s: Session) -> None:
        async def outline(uri: str) -> list[types.DocumentSymbol]:
            return await s.request(
                s.client.text_document_document_symbol_async(
                    types.DocumentSymbolParams(text_document=doc(uri))
                )
            )

        await s.open(uri, MOBILENET)
        symbols = await outline(uri)
        assert [(x.name, x.kind) for x in symbols] == [
            ("mobilenet_v2", types.SymbolKind.Module),
            ("input_layer", types.SymbolKind.Variable),
            ("inverted", types.SymbolKind.Class),
            ("residual", types.SymbolKind.Class),
            ("stages", types.SymbolKind.Constant),
            ("sequential", types.SymbolKind.Namespace),
            ("compile", types.SymbolKind.Struct),
        ]
        inverted, residual, stages = symbols[2], symbols[3], symbols[4]
        assert inverted.detail == "(in_channels, filters, stride, expansion, widen=true)"
        assert inverted.selection_range == span_of(MOBILENET, "inverted(in_channels", 0, 8)
        assert [c.name for c in inverted.children][:4] == [
            "expand",
            "expand_BN",
            "expand_relu",
            "pad",
        ]
        assert [(c.name, c.detail) for c in residual.children] == [
            ("add", "Add"),
            ("inverted", "inverted"),
        ]
        assert stages.detail.startswith("[(1, 2, 16, 24, 2),")
        layers = [(c.name, c.detail) for c in symbols[5].children]
        assert ("expanded_conv", "inverted") in layers
        assert ('"block_{first}"', "inverted") in layers and ('"block_{i}"', "residual") in layers
        assert ("global_average_pooling2d", "GlobalAveragePooling2D") in layers

        await s.open(resnet, RESNET)
        [_, _, unit, bottleneck, _, _] = await outline(resnet)
        assert [(c.name, c.detail) for c in unit.children] == [
            ("conv", "Conv2D"),
            ("bn", "BatchNormalization"),
            ("relu", "Activation"),
        ]
        assert [c.name for c in bottleneck.children] == ["1", "2", "3", "add", "out", "0"]

    run(scenario)


def test_completion_offers_blocks_with_their_parameters(tmp_path):
    uri = (tmp_path / "resnet50.nn").as_uri()

    async def scenario(s: Session) -> None:
        await s.open(uri, RESNET)
        in_body = await completion(s, uri, at(RESNET, "    pool1_pad ="))
        block = in_body[("bottleneck", Kind.Module)]
        assert block.detail == "block bottleneck(filters, stride=1, project=false)"
        assert {"unit", "Dense", "Conv2D"} <= labels(in_body)

        arguments = await completion(s, uri, at(RESNET, "bottleneck(filters)", 11))
        assert arguments[("stride", Kind.Property)].detail == "default `1`"
        assert arguments[("stride", Kind.Property)].insert_text == "stride="
        assert arguments[("filters", Kind.Property)].detail == "required"
        assert arguments[("filters", Kind.Constant)].detail == "loop variable"
        assert {"n", "blocks", "i"} <= labels(arguments)  # the loop variables around it
        assert "Dense" not in labels(arguments)

        # in a block's body: its own names and the other blocks, not itself
        in_block = await completion(s, uri, at(RESNET, "    out = Activation"))
        assert {"x", "add", "unit"} <= labels(in_block) and "bottleneck" not in labels(in_block)
        assert in_block[("x", Kind.Variable)].detail == "port"
        values = await completion(s, uri, at(RESNET, "filters, kernel, strides", 0))
        assert values[("kernel", Kind.Constant)].detail == "parameter of `unit`, default `1`"

    run(scenario)


def block_specs() -> list:
    """The specs of specs/ with parameters or blocks."""
    found = []
    for path in sorted((ROOT / "specs").glob("*.nn")):
        text = path.read_text()
        if re.search(r"^\s*(param|block)\b", text, re.MULTILINE):
            found.append((path.name, text))
    return found


def test_every_token_of_the_block_specs_is_answered(tmp_path):
    """Hover, definition, references and completion at every token, and the outline:
    answers, never an error, and nothing in the server's log."""
    specs = block_specs()
    assert {"resnet50.nn", "mobilenet_v2.nn"} <= {name for name, _ in specs}

    async def scenario(s: Session) -> None:
        for name, text in specs:
            uri = (tmp_path / name).as_uri()
            assert await s.open(uri, text) == [], name
            await s.request(
                s.client.text_document_document_symbol_async(
                    types.DocumentSymbolParams(text_document=doc(uri))
                )
            )
            for match in re.finditer(r"\w+|[^\w\s]+", text):
                line = text.count("\n", 0, match.start())
                column = match.start() - text.rfind("\n", 0, match.start()) - 1
                position = types.Position(line, column)
                await s.request(
                    s.client.text_document_hover_async(
                        types.HoverParams(text_document=doc(uri), position=position)
                    )
                )
                await definition(s, uri, position)
                await references(s, uri, position)
                await completion(s, uri, position)
        assert b"".join(s.stderr) == b""

    run(scenario)
