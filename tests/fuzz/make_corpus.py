#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora into tests/fuzz/corpus/<target>/ (standard library only).

Run by hand after changing it: python3 tests/fuzz/make_corpus.py. Each target gets a few small
valid files and a few invalid ones (truncated, wrong magic, a header claiming 2^32-ish sizes),
so that the fuzzer starts from every branch of the header parsers. Model files follow
docs/model-format.md byte for byte.
"""

import gzip
import json
import os
import shutil
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(folder, name), "wb") as out:
        out.write(data)


# ------------------------------------------------------------------------------ CSV

def csv_corpus():
    write("csv", "iris_head.csv", "sepal_length,sepal_width,petal_length,petal_width,species\n"
                                  "5.1,3.5,1.4,0.2,setosa\n7.0,3.2,4.7,1.4,versicolor\n6.3,3.3,6.0,2.5,virginica\n")
    write("csv", "integer_labels_crlf.csv", "a,b,label\r\n1,2,0\r\n-3.5e2,+4,1\r\n0.0, 1e-40 ,1\r\n")
    write("csv", "quoted_bom.csv", '\ufeff"x, first","y ""quoted""",class\n"1.5",2,"a,b"\n3,4,c\n\n')
    write("csv", "unlabelled.csv", "f1,f2,f3\n1,2,3\n4,5,6\n")
    write("csv", "bad_field_count.csv", "a,b,label\n1,2\n")
    write("csv", "nan_and_overflow.csv", "a,b,label\nnan,1e39,0\n")
    write("csv", "unterminated_quote.csv", 'a,b\n"1,2\n')
    write("csv", "header_only.csv", "a,b,label\n")


# ------------------------------------------------------------------------------ IDX

def idx(type_code, dims, payload):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


def idx_corpus():
    images = idx(0x08, [2, 2, 3], bytes(range(0, 240, 20)))
    labels = idx(0x08, [3], bytes([0, 9, 4]))
    write("idx", "images_2x2x3.idx", images)
    write("idx", "labels_3.idx", labels)
    write("idx", "images_2x2x3.idx.gz", gzip.compress(images, mtime=0))
    write("idx", "labels_two_gzip_members.gz", gzip.compress(labels[:6], mtime=0) + gzip.compress(labels[6:], mtime=0))
    write("idx", "huge_dims.idx", idx(0x08, [0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF], b""))
    write("idx", "claims_2pow31_labels.idx", idx(0x08, [0x80000000], bytes(4)))
    write("idx", "truncated_images.idx", images[:-5])
    write("idx", "trailing_garbage.idx", labels + b"xyz")
    write("idx", "float_type.idx", idx(0x0D, [1], struct.pack(">f", 1.0)))
    write("idx", "corrupt.gz", gzip.compress(images, mtime=0)[:-6] + b"\x00" * 6)
    # More decompressed bytes after the data than the reader inflates to report them (64 KiB).
    write("idx", "gzip_surplus_100k.gz", gzip.compress(labels + bytes(100000), mtime=0))


# ------------------------------------------------------------------------------ NPY

def npy(descr, shape, payload, version=(1, 0), fortran=False, extra=""):
    shape_text = "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, %s}" % (descr, fortran, shape_text, extra)
    length_size = 2 if version[0] == 1 else 4
    prefix = 6 + 2 + length_size
    header += " " * (63 - (prefix + len(header)) % 64) + "\n"
    length = struct.pack("<H" if length_size == 2 else "<I", len(header))
    return b"\x93NUMPY" + bytes(version) + length + header.encode("latin-1") + payload


def npy_corpus():
    write("npy", "f4_2x3.npy", npy("<f4", [2, 3], struct.pack("<6f", 1, 2, 3, 4, 5, -6.5)))
    write("npy", "f8_4.npy", npy("<f8", [4], struct.pack("<4d", 0.5, -1e-300, 3e38, 0)))
    write("npy", "u1_3x1.npy", npy("|u1", [3, 1], bytes([0, 128, 255])))
    write("npy", "i8_2_v2.npy", npy("<i8", [2], struct.pack("<2q", -(2 ** 40), 7), version=(2, 0)))
    write("npy", "i4_1x2_v3.npy", npy("<i4", [1, 2], struct.pack("<2i", -5, 5), version=(3, 0)))
    write("npy", "empty_0x3.npy", npy("<f4", [0, 3], b""))
    write("npy", "fortran.npy", npy("<f4", [2, 2], struct.pack("<4f", 1, 2, 3, 4), fortran=True))
    write("npy", "big_endian.npy", npy(">f4", [1], struct.pack(">f", 1)))
    write("npy", "claims_2pow40_rows.npy", npy("<f4", [2 ** 40, 1], b""))
    write("npy", "truncated.npy", npy("<f8", [3], struct.pack("<2d", 1, 2)))
    write("npy", "nan.npy", npy("<f4", [1], struct.pack("<f", float("nan"))))
    write("npy", "3d.npy", npy("<f4", [1, 1, 1], struct.pack("<f", 1)))


# ------------------------------------------------------------------------------ model config

def model_config_corpus():
    keras = {"class_name": "Sequential", "config": {"layers": [
        {"class_name": "Dense", "config": {"units": 8, "activation": "relu", "use_bias": True,
                                           "kernel_initializer": "he_normal", "bias_initializer": "zeros"}},
        {"class_name": "LeakyReLU", "config": {"negative_slope": 0.2}},
        {"class_name": "Dense", "config": {"units": 3}},
        {"class_name": "Activation", "config": {"activation": "softmax"}}]}}
    write("model_config", "keras.json", json.dumps(keras))
    write("model_config", "bare_layers.json", json.dumps({"layers": [
        {"class_name": "Dense", "config": {"units": 4, "activation": "binary_step(ste)"}},
        {"class_name": "ReLU"}, {"class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"}},
        {"class_name": "LeakyReLU", "config": {"alpha": 0.3}}, {"class_name": "Softmax", "config": {}}]}))
    write("model_config", "unknown_key.json", '{"layers": [{"class_name": "Dense", "config": {"unit": 3}}]}')
    write("model_config", "bad_units.json", '{"layers": [{"class_name": "Dense", "config": {"units": -1e40}}]}')
    write("model_config", "not_json.json", '{"layers": [')
    write("model_config", "layer_spec.txt", "64:relu,32:leaky_relu(0.3),1:sigmoid")
    write("model_config", "layer_spec_bad.txt", "8:tanh,0:softmax,(((")


# ------------------------------------------------------------------------------ model file

class ModelWriter:
    """Encodes a model file as docs/model-format.md describes."""

    def __init__(self):
        self.payload = b""

    def u8(self, v):
        self.payload += struct.pack("<B", v)

    def u32(self, v):
        self.payload += struct.pack("<I", v)

    def u64(self, v):
        self.payload += struct.pack("<Q", v)

    def f32(self, *values):
        self.payload += struct.pack("<%df" % len(values), *values)

    def string(self, text):
        data = text.encode("utf-8")
        self.u32(len(data))
        self.payload += data

    def strings(self, items):
        self.u32(len(items))
        for item in items:
            self.string(item)

    def file(self, version=1):
        header = b"XDENSEM\x1a" + struct.pack("<IIQ", version, 0, len(self.payload))
        body = header + self.payload
        return body + struct.pack("<I", zlib.crc32(body))


def write_standardizer(w, standardizer):
    """bool has, then u64 n, f32 mean[n], f32 scale[n]."""
    if standardizer:
        w.u8(1)
        w.u64(len(standardizer[0]))
        w.f32(*standardizer[0])
        w.f32(*standardizer[1])
    else:
        w.u8(0)


def write_info(w, classes, features, standardizer, metadata):
    """The info section, the same in versions 1 and 2 (version 3 appends the task and targets)."""
    w.strings(list(classes))
    w.strings(list(features))
    write_standardizer(w, standardizer)
    w.u32(len(metadata))
    for key, value in metadata:
        w.string(key)
        w.string(value)


def compact_json(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def model_file_v2(input_units, layers, loss, optimizer, optimizer_config, metrics=(), classes=(), features=(),
                  standardizer=None, metadata=()):
    """Version 2. layers: (kind, config, [(name, shape, values), ...])."""
    w = ModelWriter()
    w.u64(input_units)
    w.u32(len(layers))
    for kind, config, tensors in layers:
        w.string(kind)
        w.string(compact_json(config))
        w.u32(len(tensors))
        for name, shape, values in tensors:
            w.string(name)
            w.u32(len(shape))
            for d in shape:
                w.u64(d)
            w.f32(*values)
    w.string(loss)
    w.string("{}")
    w.string(optimizer)
    w.string(compact_json(optimizer_config))
    w.strings(list(metrics))
    write_info(w, classes, features, standardizer, metadata)
    return w.file(2)


def model_file_v3(input_units, layers, loss, optimizer, optimizer_config, metrics=(), classes=(), features=(),
                  standardizer=None, metadata=(), task="classification", targets=(), target_standardizer=None):
    """Version 3: metrics as (name, config), the info ending with the task and the targets."""
    w = ModelWriter()
    w.u64(input_units)
    w.u32(len(layers))
    for kind, config, tensors in layers:
        w.string(kind)
        w.string(compact_json(config))
        w.u32(len(tensors))
        for name, shape, values in tensors:
            w.string(name)
            w.u32(len(shape))
            for d in shape:
                w.u64(d)
            w.f32(*values)
    w.string(loss)
    w.string("{}")
    w.string(optimizer)
    w.string(compact_json(optimizer_config))
    w.u32(len(metrics))
    for name, config in metrics:
        w.string(name)
        w.string(compact_json(config))
    write_info(w, classes, features, standardizer, metadata)
    w.string(task)
    w.strings(list(targets))
    write_standardizer(w, target_standardizer)
    return w.file(3)


def model_file_v3_corpus():
    adam = {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
    two_targets = model_file_v3(
        2, [dense_v2(2, 3, [0.1, -0.2, 0.3, 0.4, 0.5, -0.6], [0.0, 0.1, -0.1]), activation_v2("relu"),
            dense_v2(3, 2, [1, 2, 3, 4, 5, 6], [0.5, -0.5])],
        "mean_squared_error", "adam", adam, features=["rooms", "age"], standardizer=([3.0, 20.0], [1.0, 10.0]),
        metadata=[("epochs", "10")], task="regression", targets=["price", "rent"],
        target_standardizer=([150000.0, 900.0], [20000.0, 120.0]))
    write("model_file", "v3_regressor_two_targets.xdm", two_targets)
    binary = model_file_v3(3, [dense_v2(3, 1, [1, -1, 0.5], [0.0]), activation_v2("sigmoid")], "binary_crossentropy",
                           "adam", adam, metrics=[("accuracy", {})], classes=["no", "yes"])
    write("model_file", "v3_sigmoid_accuracy.xdm", binary)
    # The documentation's 410-byte example.
    write("model_file", "v3_format_doc_example.xdm", model_file_v3(
        1, [dense_v2(1, 1, [2.0], [0.5]), activation_v2("linear")], "mean_squared_error", "sgd",
        {"learning_rate": 0.009999999776482582, "momentum": 0.0, "nesterov": False}, metadata=[("seed", "1")],
        task="regression"))


def dense_v2(inputs, units, kernel, bias=None):
    config = {"units": units, "use_bias": bias is not None, "kernel_initializer": "glorot_uniform",
              "bias_initializer": "zeros"}
    tensors = [("kernel", (inputs, units), kernel)] + ([("bias", (units,), bias)] if bias is not None else [])
    return ("Dense", config, tensors)


def activation_v2(spec):
    return ("Activation", {"activation": spec}, [])


def model_file_v2_corpus():
    adam = {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
    sgd = {"learning_rate": 0.01, "momentum": 0.9, "nesterov": True}
    iris = model_file_v2(
        2, [dense_v2(2, 3, [0.1, -0.2, 0.3, 0.4, 0.5, -0.6], [0.0, 0.1, -0.1]), activation_v2("relu"),
            dense_v2(3, 2, [1, 2, 3, 4, 5, 6], [0.5, -0.5]), activation_v2("softmax")],
        "categorical_crossentropy", "adam", adam, metrics=["accuracy"], classes=["cat", "dog"], features=["x", "y"],
        standardizer=([0.5, -1.0], [2.0, 0.25]), metadata=[("epochs", "10"), ("seed", "1")])
    write("model_file", "v2_two_layer_softmax.xdm", iris)
    no_bias = model_file_v2(3, [dense_v2(3, 1, [1, -1, 0.5]), activation_v2("sigmoid")], "binary_crossentropy", "sgd",
                            sgd, classes=["no", "yes"])
    write("model_file", "v2_sigmoid_sgd_no_bias.xdm", no_bias)
    # The documentation's 391-byte example.
    write("model_file", "v2_format_doc_example.xdm", model_file_v2(
        1, [dense_v2(1, 1, [2.0], [0.5]), activation_v2("linear")], "mean_squared_error", "sgd",
        {"learning_rate": 0.009999999776482582, "momentum": 0.0, "nesterov": False}, metadata=[("seed", "1")]))
    write("model_file", "v2_truncated.xdm", iris[:90])
    deep = model_file_v2(2, [("Activation", {"activation": "relu", "x": [[[[[[[[1]]]]]]]]}, [])], "mean_squared_error",
                         "sgd", sgd)
    write("model_file", "v2_config_nested.xdm", deep)
    write("model_file", "v2_rank_9.xdm", model_file_v2(
        1, [("Dense", {"units": 1}, [("kernel", (1,) * 9, [1.0]), ("bias", (1,), [0.0])])], "mean_squared_error",
        "sgd", sgd))
    checkpoint_v2_corpus(no_bias)


def model_file(layers, loss, optimizer, metrics=(), classes=(), features=(), standardizer=None, metadata=()):
    """Version 1 (xdense 0.2). layers: ("dense", inputs, units, use_bias, kernel, bias) or ("activation", spec)."""
    w = ModelWriter()
    first = layers[0]
    w.u64(first[1] if first[0] == "dense" else 2)
    w.u32(len(layers))
    for layer in layers:
        if layer[0] == "dense":
            _, inputs, units, use_bias, _, _ = layer
            w.u8(1)
            w.u64(inputs)
            w.u64(units)
            w.u8(1 if use_bias else 0)
            w.string("glorot_uniform")
            w.string("zeros")
        else:
            w.u8(2)
            w.string(layer[1])
    w.string(loss)
    name, lr, momentum, nesterov, beta1, beta2, epsilon = optimizer
    w.string(name)
    w.f32(lr, momentum)
    w.u8(1 if nesterov else 0)
    w.f32(beta1, beta2, epsilon)
    w.strings(list(metrics))
    write_info(w, classes, features, standardizer, metadata)
    for layer in layers:
        if layer[0] == "dense":
            w.f32(*layer[4])
            w.f32(*layer[5])
    return w.file()


def model_file_corpus():
    adam = ("adam", 1e-3, 0.0, False, 0.9, 0.999, 1e-7)
    sgd = ("sgd", 0.01, 0.9, True, 0.9, 0.999, 1e-7)
    iris = model_file(
        [("dense", 2, 3, True, [0.1, -0.2, 0.3, 0.4, 0.5, -0.6], [0.0, 0.1, -0.1]), ("activation", "relu"),
         ("dense", 3, 2, True, [1, 2, 3, 4, 5, 6], [0.5, -0.5]), ("activation", "softmax")],
        "categorical_crossentropy", adam, metrics=["accuracy"], classes=["cat", "dog"], features=["x", "y"],
        standardizer=([0.5, -1.0], [2.0, 0.25]), metadata=[("epochs", "10"), ("seed", "1")])
    write("model_file", "two_layer_softmax.xdm", iris)
    write("model_file", "sigmoid_sgd_no_bias.xdm", model_file(
        [("dense", 3, 1, False, [1, -1, 0.5], [0.0]), ("activation", "sigmoid")], "binary_crossentropy", sgd,
        classes=["no", "yes"]))
    write("model_file", "activation_only.xdm", model_file(
        [("activation", "leaky_relu(0.3)"), ("activation", "binary_step(ste)")], "mean_squared_error", sgd))
    # The documentation's 184-byte example.
    write("model_file", "format_doc_example.xdm", model_file(
        [("dense", 1, 1, True, [2.0], [0.5]), ("activation", "linear")], "mean_squared_error",
        ("sgd", 0.01, 0.0, False, 0.9, 0.999, 1e-7), metadata=[("seed", "1")]))
    write("model_file", "truncated.xdm", iris[:60])
    huge = bytearray(iris)
    struct.pack_into("<Q", huge, 24 + 8 + 4 + 1 + 8, 2 ** 31)  # first Dense layer's units
    write("model_file", "claims_2pow31_units.xdm", bytes(huge[:-4]) + struct.pack("<I", zlib.crc32(bytes(huge[:-4]))))
    write("model_file", "wrong_magic.xdm", b"XDENSEX" + iris[7:])
    checkpoint_corpus(model_file(
        [("dense", 3, 1, False, [1, -1, 0.5], [0.0]), ("activation", "sigmoid")], "binary_crossentropy", sgd,
        classes=["no", "yes"]))


# ------------------------------------------------------------------------------ checkpoint
# Fuzzed by fuzz_model_file too (its CRC-32 trailer is the same convention): magic "XDNSCKPT",
# u32 version, u64 model length, the model file, u64 epochs done, u32 + bytes random engine state,
# u64 optimizer iterations, u32 slot count, per slot (version 2: string slot name + u32 parameter
# index) u64 n + n f32, u32 history length, per epoch u64 epoch + 5 f64, then a CRC-32 of
# everything before it (docs/model-format.md, "Checkpoints").

def checkpoint(model, epochs, slots, rng=" ".join(str(i) for i in range(1, 313)) + " 312"):
    body = b"XDNSCKPT" + struct.pack("<IQ", 1, len(model)) + model
    body += struct.pack("<QI", len(epochs), len(rng)) + rng.encode("ascii")
    body += struct.pack("<QI", 3 * len(epochs), len(slots))
    for slot in slots:
        body += struct.pack("<Q%df" % len(slot), len(slot), *slot)
    body += struct.pack("<I", len(epochs))
    for i, (loss, accuracy) in enumerate(epochs):
        body += struct.pack("<Q5d", i + 1, loss, accuracy, 0.0, 0.0, 0.25)
    return body + struct.pack("<I", zlib.crc32(body))


def checkpoint_corpus(model):
    good = checkpoint(model, [(0.7, 0.5), (0.6, 0.75)], [[0.01, -0.02, 0.03]])
    write("model_file", "checkpoint_sgd_momentum.xdc", good)
    write("model_file", "checkpoint_trailing_bytes.xdc", good[:-4] + bytes(10) + good[-4:])
    long_model = bytearray(good)
    struct.pack_into("<Q", long_model, 12, 2 ** 40)
    write("model_file", "checkpoint_claims_2pow40_model.xdc", bytes(long_model))
    huge_slot = bytearray(checkpoint(model, [], [[0.5]]))
    rng_length = struct.unpack_from("<I", huge_slot, 20 + len(model) + 8)[0]
    struct.pack_into("<Q", huge_slot, 20 + len(model) + 8 + 4 + rng_length + 8 + 4, 2 ** 32)  # slot 0's size
    write("model_file", "checkpoint_claims_2pow32_slot.xdc", bytes(huge_slot))


def checkpoint_v2(model, epochs, slots, rng=" ".join(str(i) for i in range(1, 313)) + " 312"):
    """Version 2: slots are (slot name, parameter index, values)."""
    body = b"XDNSCKPT" + struct.pack("<IQ", 2, len(model)) + model
    body += struct.pack("<QI", len(epochs), len(rng)) + rng.encode("ascii")
    body += struct.pack("<QI", 3 * len(epochs), len(slots))
    for name, index, values in slots:
        data = name.encode("ascii")
        body += struct.pack("<I", len(data)) + data + struct.pack("<IQ%df" % len(values), index, len(values), *values)
    body += struct.pack("<I", len(epochs))
    for i, (loss, accuracy) in enumerate(epochs):
        body += struct.pack("<Q5d", i + 1, loss, accuracy, 0.0, 0.0, 0.25)
    return body + struct.pack("<I", zlib.crc32(body))


def checkpoint_v2_corpus(model):
    write("model_file", "v2_checkpoint_sgd_momentum.xdc",
          checkpoint_v2(model, [(0.7, 0.5), (0.6, 0.75)], [("momentum", 0, [0.01, -0.02, 0.03])]))
    write("model_file", "v2_checkpoint_wrong_index.xdc",
          checkpoint_v2(model, [(0.7, 0.5)], [("momentum", 3, [0.01, -0.02, 0.03])]))


def main():
    shutil.rmtree(CORPUS, ignore_errors=True)
    model_file_v2_corpus()
    model_file_v3_corpus()
    csv_corpus()
    idx_corpus()
    npy_corpus()
    model_config_corpus()
    model_file_corpus()
    for target in sorted(os.listdir(CORPUS)):
        print(target, len(os.listdir(os.path.join(CORPUS, target))), "files")


if __name__ == "__main__":
    main()
