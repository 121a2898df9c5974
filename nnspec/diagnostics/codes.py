"""The table of every diagnostic code nnspec emits."""

# Every diagnostic code nnspec emits, with its one-line meaning. docs/language.md
# lists this table; a test keeps the two in step.
CODES: dict[str, str] = {
    # syntax
    "E001": "syntax error: a token the grammar does not allow here",
    "E002": "invalid character or unterminated string",
    "E003": "nesting too deep",
    "E004": "statement given twice",
    "E005": "malformed literal (an index or key that must be a whole number)",
    "E006": "invalid layer name",
    # names and arguments
    "E101": "unknown layer type",
    "E102": "unknown argument",
    "E103": "missing required argument",
    "E104": "argument given twice",
    "E105": "argument of the wrong type",
    "E106": "value out of range or not allowed",
    "E107": "too many positional arguments",
    "E108": "unknown activation, initializer, regularizer or constraint",
    "E109": "unknown loss",
    "E110": "unknown optimizer",
    "E111": "unknown metric",
    "E112": "unknown callback",
    "E113": "unknown data source",
    "E114": "unknown setting",
    "E115": "missing required setting",
    # graph
    "E201": "name defined twice",
    "E202": "reference to an undefined name",
    "E203": "cycle in the layer graph",
    "E204": "layer not reachable from any input",
    "E205": "layer leads to no output",
    "E206": "wrong number of inputs for a layer",
    "E207": "model has no input or no architecture",
    "E208": "both a sequential and a graph block",
    "E209": "ambiguous reference to a shared layer",
    "E210": "output index out of range or missing",
    # shapes
    "E301": "input shape does not fit the layer",
    "E302": "merged shapes are incompatible",
    "E303": "invalid shape",
    # training setup
    "E401": "loss does not fit the output layer",
    "E402": "number of losses does not match the number of outputs",
    "E403": "softmax over a single unit",
    "E404": "labels do not fit the loss",
    "E405": "number of classes does not match the output units",
    "E406": "no compile block: loss and optimizer are needed to train or evaluate",
    "E408": "metrics do not match the model outputs",
    "E409": "fit setting Keras refuses for this model",
    "E501": "data does not fit the model input",
    "E502": "data does not feed every model input and output",
    "E503": "sample weights the data source cannot give",
    # code generation
    "E601": "the Sequential API asked for a model that is not a plain chain",
    # parameters and blocks
    "E701": "name in an expression that is not a parameter",
    "E702": "division by zero",
    "E703": "operation on values of the wrong kind",
    "E704": "value too large",
    "E705": "block that uses itself",
    "E706": "parameter with the name of a layer, input or block",
    "E707": "loop that repeats no times",
    "E708": "not an integer where an integer is needed",
    "E709": "block input, output or edge misplaced",
    # warnings
    "W301": "Dense layer applied to a tensor of rank above 2",
    "W401": "output activation unusual for the loss",
    "W402": "regression loss on class labels",
    "W403": "fit setting without effect",
    "W404": "predictions from untrained weights: no compile block",
    "W501": "no data block: nnspec run needs one",
    "W502": "data setting without effect for this source",
    # internal
    "E900": "internal error in nnspec",
}
