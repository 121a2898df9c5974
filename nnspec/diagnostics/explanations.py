"""The long form of every diagnostic code, for `nnspec codes CODE`.

Each explanation says what is wrong and why Keras or nnspec cares, shows a small
spec that raises the code, and the same spec fixed. Tests check every example
against the checker: the example raises its code, the fixed spec no error.
"""

from __future__ import annotations

from msgspec import Struct


class Explanation(Struct, frozen=True):
    text: str  # what is wrong and why it matters
    example: str  # a small spec that raises the code
    fix: str  # how to fix it, in one sentence
    fixed: str  # the example, fixed


# The command that raises a code on its example, where `nnspec check` does not.
RAISED_BY: dict[str, str] = {"E601": "nnspec gen --api sequential"}
# Codes without an example, and why.
NO_EXAMPLE: dict[str, str] = {"E900": "a bug in nnspec: no spec should raise it"}

_MLP = "input features: (20,)\nsequential {\n    Dense(16, activation=relu)\n    Dense(1)\n}\n"
_DIGITS = "data digits { scale: 1/16 }\ninput pixels: (64,)\n"
_SOFTMAX = "sequential {\n    Dense(10, activation=softmax)\n}\n"
_SPARSE = "compile { loss: sparse_categorical_crossentropy, optimizer: adam }\n"
_TUMOURS = (
    "data breast_cancer { standardize: true }\ninput features: (30,)\n"
    "sequential {\n    Dense(16, activation=relu)\n    Dense(1, activation=sigmoid)\n}\n"
)
RES_EXAMPLE = """\
block res(units) {
    input x
    a = Dense(units, activation=relu)
    b = Dense(units)
    add = Add()
    x -> a -> b
    [x, b] -> add
    output add
}
"""
_BINARY = "compile { loss: binary_crossentropy, optimizer: adam }\n"
_TWO_OUTPUTS = """\
data npz("listings.npz") {
    outputs: { kind: "y_kind", price: "y_price" }
}
input features: (12,)
graph {
    hidden = Dense(32, activation=relu)
    kind = Dense(3, activation=softmax)
    price = Dense(1)
    features -> hidden
    hidden -> kind
    hidden -> price
}
output kind, price
compile {
    loss: { kind: sparse_categorical_crossentropy, price: mse }
    optimizer: adam
"""

EXPLANATIONS: dict[str, Explanation] = {
    "E001": Explanation(
        "The text does not follow the grammar of a spec: a token stands where the grammar "
        "allows none. The message names the token and what would have fitted there. Common "
        "causes for a Keras user: commas between the layers of a block (a block holds one "
        "layer per line), a `:` in a call (arguments are `name=value`), an `=` in a settings "
        "block (settings are `key: value`), a bracket left open, or a shape of one value "
        "written `(20)` where Python and nnspec need the tuple `(20,)`.",
        "input features: (20,)\nsequential {\n    Dense(16, activation=relu),\n"
        "    Dense(1)\n}\n",
        "Remove the comma: the layers of a `sequential` block are written one per line.",
        _MLP,
    ),
    "E002": Explanation(
        "A character that no token of the language starts with (`;`, `@`, `×`, a curly "
        "quote), or a string whose closing quote is missing on its line. Statements end "
        "at the end of the line; nothing needs a semicolon.",
        "input features: (20,)\nsequential {\n    Dense(16, activation=relu);\n"
        "    Dense(1)\n}\n",
        "Remove the semicolon.",
        _MLP,
    ),
    "E003": Explanation(
        "Brackets nested more than 64 deep. No model needs that much nesting; it is "
        "usually generated text or brackets that never close, and nnspec stops there "
        "rather than exhaust the stack.",
        "input features: " + "(" * 65 + "20," + ")" * 65 + "\nsequential {\n    Dense(1)\n}\n",
        "Write the shape as one tuple.",
        "input features: (20,)\nsequential {\n    Dense(1)\n}\n",
    ),
    "E004": Explanation(
        "A statement that a spec holds once (`model`, `data`, `compile`, `fit`, "
        "`evaluate`, ...) is given a second time. nnspec does not merge the two: which one "
        "was meant is not clear.",
        _MLP + "compile { loss: mse, optimizer: adam }\ncompile { loss: mae, optimizer: sgd }\n",
        "Keep one `compile` block.",
        _MLP + "compile { loss: mse, optimizer: adam }\n",
    ),
    "E005": Explanation(
        "A number that must be a whole number is written with a fraction or an exponent: "
        "an output index such as `hidden.1`, or a class index used as a key of "
        "`class_weight`.",
        _TUMOURS + _BINARY + "fit { epochs: 10, class_weight: { 0: 1.0, 1.5: 3.0 } }\n",
        "Key `class_weight` by class index: 0, 1, ...",
        _TUMOURS + _BINARY + "fit { epochs: 10, class_weight: { 0: 1.0, 1: 3.0 } }\n",
    ),
    "E006": Explanation(
        "A layer name in quotes holds only letters, digits, `_`, `.` and `-`, as Keras "
        'requires, and each `{...}` in it holds one expression: `"block{i}"`. Quotes '
        'let a name start with a digit (`"1_conv"`) or be made from parameters.',
        'input features: (20,)\nsequential {\n    "first layer" = Dense(1)\n}\n',
        "Write the name without spaces.",
        'input features: (20,)\nsequential {\n    "first_layer" = Dense(1)\n}\n',
    ),
    "E101": Explanation(
        "The layer type is not one nnspec knows. Layer types are Keras class names, with "
        "Keras's capitals (`Dropout`, not `dropout`). A name close to a supported layer "
        "is probably a typo, and the hint names that layer. A real Keras layer that nnspec "
        "does not support yet (`Masking`, `Lambda`, `RandomFlip`, ...) is named as such: "
        "docs/language.md lists the supported layers, and the script `nnspec gen` writes "
        "can be edited to add one.",
        "input features: (20,)\nsequential {\n    Dense(16, activation=relu)\n"
        "    dropout(0.5)\n    Dense(1)\n}\n",
        "Spell the layer as Keras does: `Dropout`.",
        "input features: (20,)\nsequential {\n    Dense(16, activation=relu)\n"
        "    Dropout(0.5)\n    Dense(1)\n}\n",
    ),
    "E102": Explanation(
        "The call has an argument its layer, loss, optimizer or callback does not take. "
        "Arguments carry Keras's names. Keras's `input_shape=` is not a layer argument in "
        "nnspec: the shape is declared once, by the `input` statement.",
        "input features: (20,)\nsequential {\n    Dense(16, activation=relu, "
        "input_shape=(20,))\n    Dense(1)\n}\n",
        "Drop `input_shape`: `input features: (20,)` already gives the shape.",
        _MLP,
    ),
    "E103": Explanation(
        "A required argument is missing: Keras would raise a TypeError when it builds the "
        "layer. `Dense` needs its `units`, `Dropout` its `rate`, `Conv2D` its `filters` "
        "and `kernel_size`.",
        "input features: (20,)\nsequential {\n    Dense(activation=relu)\n    Dense(1)\n}\n",
        "Give the number of units.",
        _MLP,
    ),
    "E104": Explanation(
        "The same argument is given twice, by position and by name or by name twice. "
        "Python refuses the call (`got multiple values for argument`), and so does nnspec.",
        "input features: (20,)\nsequential {\n    Dense(16, units=32)\n    Dense(1)\n}\n",
        "Give each argument once.",
        "input features: (20,)\nsequential {\n    Dense(32)\n    Dense(1)\n}\n",
    ),
    "E105": Explanation(
        "An argument or setting has a value of the wrong kind: a name where a number is "
        "needed, a number where Keras wants a tuple, a string for a number. The message "
        "says what was expected.",
        "input image: (28, 28)\nsequential {\n    Reshape(784)\n    Dense(10)\n}\n",
        "`target_shape` is a tuple: a shape of one value is written `(784,)`.",
        "input image: (28, 28)\nsequential {\n    Reshape((784,))\n    Dense(10)\n}\n",
    ),
    "E106": Explanation(
        "The value has the right kind but is out of range or not one of the allowed "
        "choices: a dropout rate of 1 or more, zero epochs, a negative learning rate, an "
        "unknown `padding`. Keras would fail on it when building or training, or train "
        "nothing.",
        "input features: (20,)\nsequential {\n    Dense(16, activation=relu)\n"
        "    Dropout(1.5)\n    Dense(1)\n}\n",
        "A dropout rate is a fraction in [0, 1).",
        "input features: (20,)\nsequential {\n    Dense(16, activation=relu)\n"
        "    Dropout(0.5)\n    Dense(1)\n}\n",
    ),
    "E107": Explanation(
        "More positional arguments than the layer takes positionally. Keras's positional "
        "order is kept; arguments after it, and keyword-only ones such as `seed`, are "
        "given by name.",
        "input features: (20,)\nsequential {\n    Dense(16, activation=relu)\n"
        "    Dropout(0.5, None, 42)\n    Dense(1)\n}\n",
        "`Dropout` takes `rate` and `noise_shape` by position; `seed` only by name.",
        "input features: (20,)\nsequential {\n    Dense(16, activation=relu)\n"
        "    Dropout(0.5, seed=42)\n    Dense(1)\n}\n",
    ),
    "E108": Explanation(
        "The activation, initializer, regularizer or constraint is not one Keras has "
        "under that name. Names are Keras's strings (`relu`, `glorot_uniform`, `l2`); "
        "those with arguments are calls (`l2(0.01)`).",
        "input features: (20,)\nsequential {\n    Dense(16, activation=rellu)\n"
        "    Dense(1)\n}\n",
        "Use Keras's name: `relu`.",
        _MLP,
    ),
    "E109": Explanation(
        "The loss is not one Keras has under that name. Losses are Keras's names in snake "
        "case (`sparse_categorical_crossentropy`, `mse`); those with arguments are calls "
        "(`sparse_categorical_crossentropy(from_logits=true)`).",
        _MLP + "compile { loss: mean_square_error, optimizer: adam }\n",
        "Use Keras's name: `mean_squared_error` (or `mse`).",
        _MLP + "compile { loss: mean_squared_error, optimizer: adam }\n",
    ),
    "E110": Explanation(
        "The optimizer is not one Keras has under that name: `adam`, `sgd`, `rmsprop`, "
        "`adamw`, ... or a call with arguments, `adam(learning_rate=0.001)`.",
        _MLP + "compile { loss: mse, optimizer: adamm }\n",
        "Use Keras's name: `adam`.",
        _MLP + "compile { loss: mse, optimizer: adam }\n",
    ),
    "E111": Explanation(
        "The metric is not one Keras has under that name: `accuracy`, `mae`, `auc`, ...",
        _MLP + "compile { loss: mse, optimizer: adam, metrics: [mean_absolute_eror] }\n",
        "Use Keras's name: `mean_absolute_error` (or `mae`).",
        _MLP + "compile { loss: mse, optimizer: adam, metrics: [mean_absolute_error] }\n",
    ),
    "E112": Explanation(
        "The callback is not one nnspec knows: callbacks are Keras's classes in snake "
        "case, `early_stopping(patience=3)`, `reduce_lr_on_plateau()`, ...",
        _DIGITS + _SOFTMAX + _SPARSE + "fit { epochs: 50, validation: 0.1, "
        "callbacks: [early_stop(patience=3)] }\n",
        "Use the callback's name: `early_stopping`.",
        _DIGITS + _SOFTMAX + _SPARSE + "fit { epochs: 50, validation: 0.1, "
        "callbacks: [early_stopping(patience=3)] }\n",
    ),
    "E113": Explanation(
        "The data source is not one nnspec has: a built-in data set (`mnist`, `digits`, "
        "`iris`, ...) or a file source (`csv(...)`, `npz(...)`, `npy(...)`).",
        "data mnsit { scale: 1/255 }\ninput image: (28, 28)\nsequential {\n    Flatten()\n"
        "    Dense(10, activation=softmax)\n}\n" + _SPARSE,
        "Use the data set's name: `mnist`.",
        "data mnist { scale: 1/255 }\ninput image: (28, 28)\nsequential {\n    Flatten()\n"
        "    Dense(10, activation=softmax)\n}\n" + _SPARSE,
    ),
    "E114": Explanation(
        "A block has a setting it does not take: a misspelling, or a Keras argument that "
        "lives elsewhere in nnspec. The hint names the closest setting.",
        _DIGITS + _SOFTMAX + _SPARSE + "fit { epoch: 5 }\n",
        "The setting is `epochs`, as in Keras's `fit`.",
        _DIGITS + _SOFTMAX + _SPARSE + "fit { epochs: 5 }\n",
    ),
    "E115": Explanation(
        "A block lacks a setting it needs: `compile` needs a `loss` and an `optimizer`, "
        "as Keras needs both to train.",
        _MLP + "compile { optimizer: adam }\n",
        "Add the loss.",
        _MLP + "compile { loss: mse, optimizer: adam }\n",
    ),
    "E201": Explanation(
        "A name is defined twice: two inputs, two layers, or a layer and an input of the "
        "same name. Keras needs unique layer names, and a reference would be ambiguous.",
        "input features: (20,)\ngraph {\n    hidden = Dense(16, activation=relu)\n"
        "    hidden = Dense(1)\n    features -> hidden\n}\n",
        "Give each layer its own name.",
        "input features: (20,)\ngraph {\n    hidden = Dense(16, activation=relu)\n"
        "    out = Dense(1)\n    features -> hidden -> out\n}\n",
    ),
    "E202": Explanation(
        "A name is used that no input or layer defines: in a chain, in `output`, or as "
        "a key of a per-output setting.",
        "input features: (20,)\ngraph {\n    hidden = Dense(16, activation=relu)\n"
        "    out = Dense(1)\n    features -> hiden -> out\n}\n",
        "Use the defined name: `hidden`.",
        "input features: (20,)\ngraph {\n    hidden = Dense(16, activation=relu)\n"
        "    out = Dense(1)\n    features -> hidden -> out\n}\n",
    ),
    "E203": Explanation(
        "The chains connect layers in a loop. A Keras functional model is a directed "
        "graph without cycles: a layer cannot take its own output as input. For "
        "recurrence use a recurrent layer (`LSTM`, `GRU`).",
        "input features: (20,)\ngraph {\n    a = Dense(16, activation=relu)\n"
        "    b = Dense(16, activation=relu)\n    add = Add()\n    out = Dense(1)\n"
        "    features -> a -> add\n    add -> b -> add\n    add -> out\n}\n",
        "Feed the merge from layers before it, not from its own output.",
        "input features: (20,)\ngraph {\n    a = Dense(16, activation=relu)\n"
        "    b = Dense(16, activation=relu)\n    add = Add()\n    out = Dense(1)\n"
        "    features -> a -> b\n    [a, b] -> add -> out\n}\n",
    ),
    "E204": Explanation(
        "A layer is defined but not reachable from any input: no chain feeds it. Keras "
        "would leave it out of the model, which is rarely what was meant.",
        "input features: (20,)\ngraph {\n    hidden = Dense(16, activation=relu)\n"
        "    dropout = Dropout(0.5)\n    out = Dense(1)\n    features -> hidden -> out\n}\n",
        "Connect the layer, or delete it.",
        "input features: (20,)\ngraph {\n    hidden = Dense(16, activation=relu)\n"
        "    dropout = Dropout(0.5)\n    out = Dense(1)\n"
        "    features -> hidden -> dropout -> out\n}\n",
    ),
    "E205": Explanation(
        "An input or a layer leads to no model output. Keras refuses a functional model "
        "with an input that no output depends on, and a layer whose result is never used "
        "is dead weight.",
        "input features: (20,)\ninput metadata: (5,)\ngraph {\n"
        "    hidden = Dense(16, activation=relu)\n    out = Dense(1)\n"
        "    features -> hidden -> out\n}\noutput out\n",
        "Use the input (here, concatenated with the features), or remove it.",
        "input features: (20,)\ninput metadata: (5,)\ngraph {\n"
        "    merged = Concatenate()\n    hidden = Dense(16, activation=relu)\n"
        "    out = Dense(1)\n    [features, metadata] -> merged -> hidden -> out\n}\n"
        "output out\n",
    ),
    "E206": Explanation(
        "A layer receives the wrong number of inputs: a merge layer (`Add`, "
        "`Subtract`, ...) with fewer than it needs, a list of inputs into a layer that "
        "takes one, or an edge into a model input. Branches are joined by a merge layer.",
        "input features: (20,)\ngraph {\n    a = Dense(16, activation=relu)\n"
        "    b = Dense(16, activation=relu)\n    out = Dense(1)\n    features -> a\n"
        "    features -> b\n    [a, b] -> out\n}\n",
        "`Dense` takes one input: merge the two branches first.",
        "input features: (20,)\ngraph {\n    a = Dense(16, activation=relu)\n"
        "    b = Dense(16, activation=relu)\n    merged = Add()\n    out = Dense(1)\n"
        "    features -> a\n    features -> b\n    [a, b] -> merged -> out\n}\n",
    ),
    "E207": Explanation(
        "The model has no input or no layers: an `input` statement and a `sequential` or "
        "`graph` block with at least one layer are what a model is made of.",
        "input features: (20,)\nsequential {\n}\n",
        "Add the layers.",
        _MLP,
    ),
    "E208": Explanation(
        "A spec holds one architecture: a `sequential` block (a plain chain of layers) or "
        "a `graph` block (any directed graph), not both.",
        _MLP + "graph {\n    out = Dense(1)\n    features -> out\n}\n",
        "Keep one of the two blocks.",
        _MLP,
    ),
    "E209": Explanation(
        "A shared layer (one applied to several inputs, with the same weights) has one "
        "output per application, and the reference does not say which. Continue each "
        "application in the chain that applies it.",
        "input left: (32,)\ninput right: (32,)\ngraph {\n    encoder = Dense(16)\n"
        "    left -> encoder\n    right -> encoder\n}\noutput encoder\n",
        "Continue each application in the chain that applies it.",
        "input left: (32,)\ninput right: (32,)\ngraph {\n    encoder = Dense(16)\n"
        "    distance = Subtract()\n    left -> encoder -> distance\n"
        "    right -> encoder -> distance\n}\noutput distance\n",
    ),
    "E210": Explanation(
        "An output index (`layer.1`) picks an output a layer does not have, or a layer "
        "with several outputs (an `LSTM` with `return_state=true`) is used without one.",
        "input features: (20,)\ngraph {\n    hidden = Dense(16, activation=relu)\n"
        "    out = Dense(1)\n    features -> hidden\n    hidden.1 -> out\n}\n",
        "`Dense` has one output: drop the index.",
        "input features: (20,)\ngraph {\n    hidden = Dense(16, activation=relu)\n"
        "    out = Dense(1)\n    features -> hidden\n    hidden -> out\n}\n",
    ),
    "E301": Explanation(
        "The tensor reaching a layer has a rank or sizes the layer cannot take: Keras "
        "would raise when building the model. Shapes include the batch dimension, "
        "`None`; `Conv2D` needs (batch, height, width, channels), `LSTM` (batch, steps, "
        "features), `Dense` a known last dimension.",
        "input image: (28, 28)\nsequential {\n    Conv2D(32, 3, activation=relu)\n"
        "    Flatten()\n    Dense(10)\n}\n",
        "Give the image its channel axis: grayscale images have 1 channel.",
        "input image: (28, 28, 1)\nsequential {\n    Conv2D(32, 3, activation=relu)\n"
        "    Flatten()\n    Dense(10)\n}\n",
    ),
    "E302": Explanation(
        "The shapes reaching a merge layer do not fit together: `Add`, `Multiply` and the "
        "like need equal shapes (or sizes of 1 that broadcast), `Concatenate` equal sizes "
        "on every axis but the one it joins.",
        "input features: (20,)\ngraph {\n    hidden = Dense(32, activation=relu)\n"
        "    add = Add()\n    out = Dense(1)\n    features -> hidden\n"
        "    [hidden, features] -> add -> out\n}\n",
        "Give the branch as many units as the input has features, or use Concatenate.",
        "input features: (20,)\ngraph {\n    hidden = Dense(20, activation=relu)\n"
        "    add = Add()\n    out = Dense(1)\n    features -> hidden\n"
        "    [hidden, features] -> add -> out\n}\n",
    ),
    "E303": Explanation(
        "A shape that cannot exist: a size of 0 or below, or a reshape into a shape "
        "holding a different number of values than the samples have.",
        "data digits { scale: 1/16, reshape: (8, 9) }\ninput image: (8, 9)\n"
        "sequential {\n    Flatten()\n    Dense(10, activation=softmax)\n}\n" + _SPARSE,
        "The 64 pixels of a digit reshape to (8, 8).",
        "data digits { scale: 1/16, reshape: (8, 8) }\ninput image: (8, 8)\n"
        "sequential {\n    Flatten()\n    Dense(10, activation=softmax)\n}\n" + _SPARSE,
    ),
    "E401": Explanation(
        "The loss does not fit what the output layer produces: `binary_crossentropy` "
        "on a softmax over several classes, a cross-entropy on an output that can be "
        "negative, ... Keras trains such a model without complaint, and it learns "
        "nothing useful.",
        _DIGITS + _SOFTMAX + _BINARY,
        "Ten classes with a softmax call for `sparse_categorical_crossentropy`.",
        _DIGITS + _SOFTMAX + _SPARSE,
    ),
    "E402": Explanation(
        "A list of losses gives one loss per model output, in output order; this one "
        "has a different number of entries than the model has outputs.",
        _MLP + "compile { loss: [mse, mae], optimizer: adam }\n",
        "One output, one loss.",
        _MLP + "compile { loss: mse, optimizer: adam }\n",
    ),
    "E403": Explanation(
        "A softmax over a single unit always outputs 1.0: the softmax divides each unit "
        "by the sum of all, here itself. A yes/no output is one unit with `sigmoid`.",
        "input features: (30,)\nsequential {\n    Dense(16, activation=relu)\n"
        "    Dense(1, activation=softmax)\n}\n" + _BINARY,
        "Use `sigmoid` for a single unit.",
        "input features: (30,)\nsequential {\n    Dense(16, activation=relu)\n"
        "    Dense(1, activation=sigmoid)\n}\n" + _BINARY,
    ),
    "E404": Explanation(
        "The labels of the data do not fit the loss: `binary_crossentropy` on ten "
        "classes, `categorical_crossentropy` (one-hot labels) on class ids, ... Keras "
        "would fail on the label shapes or train on meaningless targets.",
        _DIGITS + "sequential {\n    Dense(1, activation=sigmoid)\n}\n" + _BINARY,
        "Ten classes: ten softmax units and `sparse_categorical_crossentropy`.",
        _DIGITS + _SOFTMAX + _SPARSE,
    ),
    "E405": Explanation(
        "The number of output units does not match the classes of the data: a 10-class "
        "data set needs 10 units with a softmax, binary labels 1 unit with a sigmoid.",
        _DIGITS + "sequential {\n    Dense(8, activation=softmax)\n}\n" + _SPARSE,
        "`digits` has 10 classes: 10 units.",
        _DIGITS + _SOFTMAX + _SPARSE,
    ),
    "E406": Explanation(
        "`fit` and `evaluate` train and test a compiled model: without a `compile` block "
        'there is no loss and no optimizer, and Keras refuses both ("You must call '
        '`compile()` before using the model").',
        _DIGITS + _SOFTMAX + "fit { epochs: 5 }\n",
        "Add a `compile` block.",
        _DIGITS + _SOFTMAX + _SPARSE + "fit { epochs: 5 }\n",
    ),
    "E408": Explanation(
        "With several outputs Keras takes the metrics per output: a list with one entry "
        "per output, in output order, or a mapping from output name. A plain list of "
        "metric names does not say which output each is for.",
        _TWO_OUTPUTS + "    metrics: [accuracy]\n}\n",
        "Map each output to its metrics.",
        _TWO_OUTPUTS + "    metrics: { kind: [accuracy], price: [mae] }\n}\n",
    ),
    "E409": Explanation(
        "A `fit` setting Keras refuses for this model: `class_weight` for a model with "
        "several outputs, or together with the data's `sample_weight` (Keras takes one or "
        "the other), for instance.",
        _TWO_OUTPUTS + "}\nfit { epochs: 5, class_weight: { 0: 1.0, 1: 3.0, 2: 1.0 } }\n",
        "Drop `class_weight`, or give the model one output.",
        _TWO_OUTPUTS + "}\nfit { epochs: 5 }\n",
    ),
    "E501": Explanation(
        "The samples of the data do not have the shape the model input declares, so "
        "Keras would refuse them at the first batch. The data block's `reshape` and "
        "`add_channel` settings change the sample shape.",
        "data digits { scale: 1/16 }\ninput pixels: (8, 8)\n"
        "sequential {\n    Flatten()\n    Dense(10, activation=softmax)\n}\n" + _SPARSE,
        "Reshape the samples of 64 pixels to the input's (8, 8).",
        "data digits { scale: 1/16, reshape: (8, 8) }\ninput pixels: (8, 8)\n"
        "sequential {\n    Flatten()\n    Dense(10, activation=softmax)\n}\n" + _SPARSE,
    ),
    "E502": Explanation(
        "With several inputs or outputs, the data block maps each one to its array "
        "(`inputs: {...}`, `outputs: {...}`); an input or output is missing from the "
        "mapping, or the mapping names one the model does not have.",
        'data npz("pairs.npz") {\n    inputs: { image: "x_image" }\n}\n'
        "input image: (64,)\ninput meta: (3,)\ngraph {\n    merged = Concatenate()\n"
        "    label = Dense(1, activation=sigmoid)\n    [image, meta] -> merged -> label\n}\n"
        + _BINARY,
        "Map every input to its array.",
        'data npz("pairs.npz") {\n    inputs: { image: "x_image", meta: "x_meta" }\n}\n'
        "input image: (64,)\ninput meta: (3,)\ngraph {\n    merged = Concatenate()\n"
        "    label = Dense(1, activation=sigmoid)\n    [image, meta] -> merged -> label\n}\n"
        + _BINARY,
    ),
    "E503": Explanation(
        "`sample_weight` names the npz array or CSV column holding one weight per "
        "sample. Keras's and scikit-learn's data sets and the generators store no "
        "weights, and a CSV column that is a label or a feature cannot be the weights too.",
        'data breast_cancer { sample_weight: "weight" }\ninput features: (30,)\n'
        "sequential {\n    Dense(1, activation=sigmoid)\n}\n" + _BINARY,
        "Store the samples with their weights in an npz archive or a CSV file.",
        'data csv("tumours.csv", label="malignant") { sample_weight: "weight" }\n'
        "input features: (30,)\nsequential {\n    Dense(1, activation=sigmoid)\n}\n" + _BINARY,
    ),
    "E701": Explanation(
        "An operation, a loop, a condition or a `{...}` in a name needs a value, and the "
        "name in it is neither a `param` of the spec, nor a parameter of the block it is "
        "in, nor a loop variable. A bare name as a layer argument, like `relu`, is a "
        "word of the vocabulary; in arithmetic it must be a parameter.",
        "param width = 32\ninput features: (20,)\nsequential {\n" "    Dense(widht // 2)\n}\n",
        "Spell the parameter as it is defined.",
        "param width = 32\ninput features: (20,)\nsequential {\n" "    Dense(width // 2)\n}\n",
    ),
    "E702": Explanation(
        "A division (`/`, `//`) or a remainder (`%`) by zero has no value.",
        "param groups = 0\ninput features: (20,)\nsequential {\n" "    Dense(64 // groups)\n}\n",
        "Divide by a number that is not zero.",
        "param groups = 2\ninput features: (20,)\nsequential {\n" "    Dense(64 // groups)\n}\n",
    ),
    "E703": Explanation(
        "An operation is given values it does not apply to: arithmetic on a string or a "
        "list, `and`/`or`/`not` or an `if` on something that is not true or false, a loop "
        "over something that is not a list, a tuple or `range(...)`, or a loop variable "
        "tuple that does not match the list's values.",
        'param width = "wide"\ninput features: (20,)\nsequential {\n' "    Dense(width * 2)\n}\n",
        "Give the parameter a number.",
        "param width = 32\ninput features: (20,)\nsequential {\n    Dense(width * 2)\n}\n",
    ),
    "E704": Explanation(
        "A value is past what any model needs: an integer of 2**63 or more, an infinite "
        "number, or an expansion of more than a million layers (a loop over a huge range). "
        "It is almost always a mistake in a formula.",
        "param width = 10000000000 * 10000000000\ninput features: (20,)\nsequential {\n    Dense(width)\n}\n",
        "Use a size a model can have.",
        "param width = 2 * 70\ninput features: (20,)\nsequential {\n    Dense(width)\n}\n",
    ),
    "E705": Explanation(
        "A block uses itself, directly or through other blocks, so its expansion would "
        "never end. Repeat a block with a loop instead.",
        "block stack(units) {\n    Dense(units)\n    stack(units)\n}\n"
        "input features: (20,)\nsequential {\n    stack(8)\n}\n",
        "Repeat the layers with a loop.",
        "block stack(units, depth) {\n    for i in range(depth) {\n"
        '        "dense{i}" = Dense(units)\n    }\n}\n'
        "input features: (20,)\nsequential {\n    stack(8, 3)\n}\n",
    ),
    "E706": Explanation(
        "A parameter has the name of a layer, an input or a block. In an edge the name "
        "means the layer, in a value the parameter: a reader cannot tell which is meant.",
        "param hidden = 32\ninput features: (20,)\nsequential {\n"
        "    hidden = Dense(hidden)\n    Dense(1)\n}\n",
        "Rename the parameter (or the layer).",
        "param width = 32\ninput features: (20,)\nsequential {\n"
        "    hidden = Dense(width)\n    Dense(1)\n}\n",
    ),
    "E707": Explanation(
        "A loop runs over an empty list or range, so it makes no layer: usually a count "
        "of 0 or a range whose end is not past its start (`range(1, 1)`).",
        "param depth = 0\ninput features: (20,)\nsequential {\n"
        "    for i in range(depth) {\n        Dense(16)\n    }\n    Dense(1)\n}\n",
        "Repeat at least once, or remove the loop.",
        "param depth = 2\ninput features: (20,)\nsequential {\n"
        "    for i in range(depth) {\n        Dense(16)\n    }\n    Dense(1)\n}\n",
    ),
    "E708": Explanation(
        "A count, a `range` bound or a part of a layer name must be an integer, and the "
        "value is a number with a fraction: `/` always gives one, as in Python. Use `//` "
        "for integer division.",
        "param depth = 4\ninput features: (20,)\nsequential {\n"
        "    for i in range(depth / 2) {\n        Dense(16)\n    }\n}\n",
        "Divide with `//`.",
        "param depth = 4\ninput features: (20,)\nsequential {\n"
        "    for i in range(depth // 2) {\n        Dense(16)\n    }\n}\n",
    ),
    "E709": Explanation(
        "Block inputs, outputs or edges stand where they do not fit: `input`/`output` "
        "names inside the model's own `sequential` or `graph` (they name a block's "
        "ports), an edge in a sequence of layers, a block with several outputs used in a "
        "sequence, a block given a different number of inputs than it declares, or a "
        "named block use fed twice (a use is applied once).",
        RES_EXAMPLE + "input features: (20,)\ngraph {\n    r = res(20)\n    features -> r\n"
        "    features -> r\n}\n",
        "Feed each block use once; write a second use for a second application.",
        RES_EXAMPLE + "input features: (20,)\ngraph {\n    r1 = res(20)\n    r2 = res(20)\n"
        "    features -> r1 -> r2\n}\n",
    ),
    "E601": Explanation(
        "`nnspec gen --api sequential` writes a `keras.Sequential` model, which is a "
        "plain chain of layers: one input, one output, no branches. The spec's graph is "
        "not one. Generate it with the functional API (the default).",
        "input features: (20,)\ngraph {\n    a = Dense(2)\n    b = Dense(2)\n"
        "    features -> a\n    features -> b\n}\noutput a, b\n",
        "Run `nnspec gen` without `--api sequential`, or make the graph a chain.",
        "input features: (20,)\ngraph {\n    a = Dense(2)\n    b = Dense(2)\n"
        "    features -> a -> b\n}\noutput b\n",
    ),
    "W301": Explanation(
        "Keras's `Dense` acts on the last axis only: on an image of (batch, 28, 28, 1) it "
        "gives (batch, 28, 28, units), a layer per pixel. A fully connected layer over "
        "the whole image needs `Flatten()` first.",
        "input image: (28, 28, 1)\nsequential {\n    Dense(64, activation=relu)\n"
        "    Dense(10)\n}\n",
        "Flatten the image first.",
        "input image: (28, 28, 1)\nsequential {\n    Flatten()\n"
        "    Dense(64, activation=relu)\n    Dense(10)\n}\n",
    ),
    "W401": Explanation(
        "The output activation is unusual for the loss: a cross-entropy on an output "
        "without activation (logits) without `from_logits=true`, or on a `relu` output. "
        "Keras trains it, but the loss then reads the outputs wrongly.",
        _DIGITS + "sequential {\n    Dense(10)\n}\n" + _SPARSE,
        "Add the softmax, or tell the loss it receives logits.",
        _DIGITS + "sequential {\n    Dense(10)\n}\n"
        "compile { loss: sparse_categorical_crossentropy(from_logits=true), "
        "optimizer: adam }\n",
    ),
    "W402": Explanation(
        "A regression loss (`mse`, `mae`, ...) on class labels fits the class ids or the "
        "one-hot vectors as numbers: Keras trains it, but a classifier needs a "
        "cross-entropy.",
        "data digits { scale: 1/16, labels: one_hot }\ninput pixels: (64,)\n"
        + _SOFTMAX
        + "compile { loss: mse, optimizer: adam }\n",
        "Use the cross-entropy that fits the labels.",
        "data digits { scale: 1/16, labels: one_hot }\ninput pixels: (64,)\n"
        + _SOFTMAX
        + "compile { loss: categorical_crossentropy, optimizer: adam }\n",
    ),
    "W403": Explanation(
        "A `fit` setting that does nothing in this configuration, such as "
        "`validation_steps` without validation data. Keras ignores it silently.",
        _DIGITS + _SOFTMAX + _SPARSE + "fit { epochs: 5, steps_per_epoch: 20, "
        "validation_steps: 5 }\n",
        "Drop the setting, or add `validation`.",
        _DIGITS + _SOFTMAX + _SPARSE + "fit { epochs: 5, steps_per_epoch: 20 }\n",
    ),
    "W404": Explanation(
        "The spec predicts but has no `compile` block, so nothing trains it: Keras "
        "predicts with the weights as they were initialized, and the predictions are "
        "those of a random model. `nnspec run` and the script `nnspec gen` writes do "
        "just that; without `compile`, `fit` and `evaluate` are errors (E406).",
        _DIGITS + _SOFTMAX + 'predict "predictions.csv"\n',
        "Add a `compile` block: the model trains (one epoch by default, or as `fit` says) "
        "before it predicts.",
        _DIGITS + _SOFTMAX + _SPARSE + 'predict "predictions.csv"\n',
    ),
    "W501": Explanation(
        "The spec trains (`fit`) but has no `data` block: `nnspec check` and `nnspec "
        "gen` work, but `nnspec run` has nothing to train on.",
        _MLP + "compile { loss: mse, optimizer: adam }\nfit { epochs: 5 }\n",
        "Add a data block (here, a regression data set of 10 features).",
        "data diabetes { standardize: true }\ninput features: (10,)\nsequential {\n"
        "    Dense(16, activation=relu)\n    Dense(1)\n}\n"
        "compile { loss: mse, optimizer: adam }\nfit { epochs: 5 }\n",
    ),
    "W502": Explanation(
        "A data setting that has no effect for this source, such as `test_split` for a "
        "data set that comes with its own test set.",
        "data mnist { scale: 1/255, test_split: 0.1 }\ninput image: (28, 28)\n"
        "sequential {\n    Flatten()\n    Dense(10, activation=softmax)\n}\n" + _SPARSE,
        "Drop the setting.",
        "data mnist { scale: 1/255 }\ninput image: (28, 28)\n"
        "sequential {\n    Flatten()\n    Dense(10, activation=softmax)\n}\n" + _SPARSE,
    ),
    "E900": Explanation(
        "nnspec itself failed: a bug, not a mistake in the spec. Please report it with "
        "the spec and the message.",
        "",
        "",
        "",
    ),
}


def explain(code: str, meaning: str) -> str:
    """The long form of `code`, as `nnspec codes CODE` prints it."""
    import textwrap

    entry = EXPLANATIONS[code]
    parts = [f"{code}: {meaning}", "", textwrap.fill(entry.text, 80)]
    if entry.example:
        command = RAISED_BY.get(code, "nnspec check")
        fix = entry.fix if entry.fix.startswith("`") else entry.fix[0].lower() + entry.fix[1:]
        parts += ["", f"`{command}` raises {code} on this spec:", "", _indented(entry.example)]
        parts += ["", textwrap.fill(f"Fix: {fix}", 80), "", _indented(entry.fixed)]
    return "\n".join(parts)


def _indented(spec: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in spec.rstrip("\n").split("\n"))
