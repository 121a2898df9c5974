"""The MNIST CNN of the seed tutorial, written by hand: the reference that
`bench/run_speed.py` holds `nnspec run specs/mnist_cnn.nn` against.

As in the seed, except: the arrays come from an `mnist.npz` path (offline
machines), `--epochs/--limit/--seed` match the nnspec run (seeded and
deterministic, as `nnspec run --seed` is), no progress bar, and the images are
float32, as nnspec feeds them (`X / 255.0` alone makes float64, which Keras
converts batch by batch: a comparison of dtypes, not of tools). The labels are
`to_categorical`'s, as in the seed and in nnspec.
"""

import argparse

import numpy as np
import tensorflow as tf
from tensorflow.keras.layers import Conv2D, Dense, Flatten, MaxPooling2D
from tensorflow.keras.models import Sequential
from tensorflow.keras.utils import set_random_seed, to_categorical

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True, help="mnist.npz")
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--limit", type=int)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
set_random_seed(args.seed)
tf.config.experimental.enable_op_determinism()

with np.load(args.data) as f:
    X_train, y_train, X_test, y_test = f["x_train"], f["y_train"], f["x_test"], f["y_test"]
if args.limit:
    X_train, y_train = X_train[: args.limit], y_train[: args.limit]

X_train = X_train.reshape(-1, 28, 28, 1)
X_test = X_test.reshape(-1, 28, 28, 1)
X_train = X_train.astype("float32") / 255.0
X_test = X_test.astype("float32") / 255.0
y_train = to_categorical(y_train, 10)
y_test = to_categorical(y_test, 10)

model = Sequential()
model.add(Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=(28, 28, 1)))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Conv2D(64, kernel_size=(3, 3), activation="relu"))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Flatten())
model.add(Dense(128, activation="relu"))
model.add(Dense(10, activation="softmax"))
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])

model.fit(
    X_train,
    y_train,
    epochs=args.epochs,
    batch_size=64,
    validation_data=(X_test, y_test),
    verbose=0,
)
loss, accuracy = model.evaluate(X_test, y_test, verbose=0)
print(f"Test Accuracy: {accuracy:.4f}")
