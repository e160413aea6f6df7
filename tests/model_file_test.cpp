// Tests of include/xdense/model_file.hpp: round trips (bit-identical predictions, info preserved),
// the byte layouts of docs/model-format.md (version 3 and 2 files and xdense 0.2's version 1 files,
// written by independent encoders here, load as documented), rejection of every kind of damaged or
// malformed file with a message naming the problem, atomic saves, and the caller errors of
// save_model(). tests/component_model_test.cpp covers user-registered layers, losses, optimizers.

#include "xdense/model_file.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "xdense/activation.hpp"
#include "xdense/builtin_activations.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/random.hpp"

namespace xdense {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<unsigned char>;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

Matrix random_matrix(std::size_t rows, std::size_t cols, std::uint64_t seed, double low = -2.0, double high = 2.0) {
  Rng rng(seed);
  Matrix m = Matrix::from_shape({rows, cols});
  for (float& v : m) v = static_cast<float>(rng.uniform(low, high));
  return m;
}

bool bit_identical(const Matrix& a, const Matrix& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

bool bit_identical(const Vector& a, const Vector& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

Bytes read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), written here independently of zlib.
std::uint32_t crc32_of(const unsigned char* data, std::size_t size) {
  std::uint32_t crc = 0xffffffffu;
  for (std::size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::uint32_t get_u32(const Bytes& b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) | static_cast<std::uint32_t>(b[at + 1]) << 8 |
         static_cast<std::uint32_t>(b[at + 2]) << 16 | static_cast<std::uint32_t>(b[at + 3]) << 24;
}

void set_u32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<unsigned char>(v >> (8 * i));
}

void set_u64(Bytes& b, std::size_t at, std::uint64_t v) {
  set_u32(b, at, static_cast<std::uint32_t>(v));
  set_u32(b, at + 4, static_cast<std::uint32_t>(v >> 32));
}

/// Recomputes the trailer so that a deliberate edit gets past the checksum.
void fix_checksum(Bytes& b) { set_u32(b, b.size() - 4, crc32_of(b.data(), b.size() - 4)); }

/// Offset of the first occurrence of `text` in `b` (fails the test if absent).
std::size_t find_text(const Bytes& b, const std::string& text) {
  for (std::size_t i = 0; i + text.size() <= b.size(); ++i) {
    if (std::memcmp(b.data() + i, text.data(), text.size()) == 0) return i;
  }
  ADD_FAILURE() << "'" << text << "' not found in the file";
  return 0;
}

/// The message of the DataError load_model(path) throws; fails the test on success or another type.
std::string load_error(const fs::path& path) {
  try {
    load_model(path.string());
    ADD_FAILURE() << "load_model(" << path << ") succeeded; expected a DataError";
  } catch (const DataError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "load_model(" << path << ") threw a non-DataError: " << e.what();
  }
  return {};
}

template <class E, class F>
std::string error_of(F&& call) {
  try {
    call();
    ADD_FAILURE() << "expected an exception";
  } catch (const E& e) {
    return e.what();
  }
  return {};
}

/// Names of the files in `folder`.
std::vector<std::string> listing(const fs::path& folder) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// ---------------------------------------------------------------- models used by the tests

/// Four inputs, three classes; every built-in activation kind with state, two Dense option sets,
/// Adam with non-default settings, trained a little so the weights are not the initial ones.
Sequential classifier() {
  Sequential model(7);
  model.add(std::make_unique<Dense>(8, 4)).add("relu");
  DenseOptions no_bias;
  no_bias.use_bias = false;
  no_bias.kernel_initializer = "he_normal";
  model.add(std::make_unique<Dense>(6, 0, no_bias)).add("leaky_relu(0.1)");
  model.add(std::make_unique<Dense>(5)).add("binary_step(ste)");
  model.add(std::make_unique<Dense>(3)).add("softmax");
  AdamOptions adam;
  adam.learning_rate = 0.02f;
  adam.beta1 = 0.85f;
  adam.beta2 = 0.995f;
  adam.epsilon = 1e-6f;
  model.compile(make_loss("sparse_categorical_crossentropy"), std::make_unique<Adam>(adam));
  const Matrix x = random_matrix(40, 4, 1);
  Matrix y = Matrix::from_shape({40, 1});
  for (std::size_t r = 0; r < 40; ++r) y(r, 0) = static_cast<float>(r % 3);
  FitOptions options;
  options.epochs = 3;
  options.batch_size = 8;
  model.fit(x, y, options);
  return model;
}

/// Three inputs, one sigmoid output, binary cross-entropy, SGD with Nesterov momentum, no metric.
Sequential binary_model() {
  Sequential model(3);
  model.add(std::make_unique<Dense>(5, 3)).add("tanh");
  model.add(std::make_unique<Dense>(1)).add("sigmoid");
  SGDOptions sgd;
  sgd.learning_rate = 0.05f;
  sgd.momentum = 0.9f;
  sgd.nesterov = true;
  model.compile(make_loss("binary_crossentropy"), std::make_unique<SGD>(sgd), {});
  const Matrix x = random_matrix(20, 3, 2);
  Matrix y = Matrix::from_shape({20, 1});
  for (std::size_t r = 0; r < 20; ++r) y(r, 0) = x(r, 0) > 0.0f ? 1.0f : 0.0f;
  FitOptions options;
  options.epochs = 2;
  options.batch_size = 5;
  model.fit(x, y, options);
  return model;
}

ModelInfo classifier_info() {
  ModelInfo info;
  info.class_names = {"setosa", "versicolor", "virginica"};
  info.feature_names = {"sepal length", "sepal width", "p\xc3\xa9tal length", ""};
  Vector mean = {5.84f, 3.05f, 3.76f, 1.2f};
  Vector scale = {0.83f, 0.43f, 1.76f, 0.76f};
  info.standardizer = Standardizer(mean, scale);
  // Order kept, duplicate keys and empty values allowed.
  info.metadata = {{"data", "data/iris.csv"}, {"epochs", "3"}, {"note", ""}, {"epochs", "4"}, {"seed", "7"}};
  return info;
}

/// A fresh temporary folder per test, removed afterwards.
class ModelFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "xdense-model-file-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  fs::path path(const std::string& name) const { return dir_ / name; }
  /// Saves a small valid model and returns its bytes.
  Bytes saved_bytes(const std::string& name = "model.xdm") {
    Sequential model = binary_model();
    ModelInfo info;
    info.class_names = {"no", "yes"};
    info.metadata = {{"k", "v"}};
    save_model(path(name).string(), model, info);
    return read_bytes(path(name));
  }

  fs::path dir_;
};

// ---------------------------------------------------------------- round trips

TEST_F(ModelFile, ClassifierRoundTripIsBitIdentical) {
  Sequential model = classifier();
  const ModelInfo info = classifier_info();
  const std::string file = path("classifier.xdm").string();
  save_model(file, model, info);
  SavedModel loaded = load_model(file);

  const Matrix x = random_matrix(64, 4, 9, -3.0, 3.0);
  EXPECT_TRUE(bit_identical(model.predict(x), loaded.model.predict(x)));
  EXPECT_EQ(model.predict_classes(x), loaded.model.predict_classes(x));

  ASSERT_EQ(loaded.model.layer_count(), model.layer_count());
  EXPECT_TRUE(loaded.model.built());
  EXPECT_TRUE(loaded.model.compiled());
  EXPECT_EQ(loaded.model.input_units(), 4u);
  for (std::size_t i = 0; i < model.layer_count(); ++i) {
    EXPECT_EQ(loaded.model.layer(i).type_name(), model.layer(i).type_name()) << i;
    EXPECT_EQ(loaded.model.layer(i).kind(), model.layer(i).kind()) << i;
    EXPECT_EQ(loaded.model.layer(i).config(), model.layer(i).config()) << i;
    const std::vector<Parameter> saved_weights = model.layer(i).weights();
    const std::vector<Parameter> loaded_weights = loaded.model.layer(i).weights();
    ASSERT_EQ(loaded_weights.size(), saved_weights.size()) << i;
    for (std::size_t k = 0; k < saved_weights.size(); ++k) {
      EXPECT_EQ(loaded_weights[k].name, saved_weights[k].name);
      EXPECT_EQ(loaded_weights[k].shape, saved_weights[k].shape);
      EXPECT_EQ(std::memcmp(loaded_weights[k].value, saved_weights[k].value, saved_weights[k].size * sizeof(float)), 0);
    }
    if (const auto* a = dynamic_cast<const Activation*>(&model.layer(i))) {
      EXPECT_EQ(dynamic_cast<const Activation&>(loaded.model.layer(i)).spec(), a->spec());
    }
  }
  const auto& no_bias = dynamic_cast<const Dense&>(loaded.model.layer(2));
  EXPECT_FALSE(no_bias.options().use_bias);
  EXPECT_EQ(no_bias.options().kernel_initializer, "he_normal");
  EXPECT_EQ(no_bias.options().bias_initializer, "zeros");
  EXPECT_EQ(loaded.model.loss()->name(), "sparse_categorical_crossentropy");
  EXPECT_TRUE(loaded.model.has_accuracy());
  EXPECT_TRUE(loaded.model.loss_from_logits());
  const auto* adam = dynamic_cast<const Adam*>(loaded.model.optimizer());
  ASSERT_NE(adam, nullptr);
  EXPECT_EQ(adam->options().learning_rate, 0.02f);
  EXPECT_EQ(adam->options().beta1, 0.85f);
  EXPECT_EQ(adam->options().beta2, 0.995f);
  EXPECT_EQ(adam->options().epsilon, 1e-6f);

  EXPECT_EQ(loaded.info.class_names, info.class_names);
  EXPECT_EQ(loaded.info.feature_names, info.feature_names);
  EXPECT_EQ(loaded.info.metadata, info.metadata);
  ASSERT_TRUE(loaded.info.standardizer.has_value());
  EXPECT_TRUE(loaded.info.standardizer->fitted());
  EXPECT_TRUE(bit_identical(loaded.info.standardizer->mean(), info.standardizer->mean()));
  EXPECT_TRUE(bit_identical(loaded.info.standardizer->scale(), info.standardizer->scale()));
}

TEST_F(ModelFile, BinarySgdNesterovRoundTripIsBitIdenticalAndKeepsTraining) {
  Sequential model = binary_model();
  const std::string file = path("binary.xdm").string();
  save_model(file, model, ModelInfo{});
  SavedModel loaded = load_model(file);

  const Matrix x = random_matrix(33, 3, 4);
  EXPECT_TRUE(bit_identical(model.predict(x), loaded.model.predict(x)));
  EXPECT_EQ(loaded.model.loss()->name(), "binary_crossentropy");
  EXPECT_FALSE(loaded.model.has_accuracy());
  EXPECT_TRUE(loaded.model.loss_from_logits());
  const auto* sgd = dynamic_cast<const SGD*>(loaded.model.optimizer());
  ASSERT_NE(sgd, nullptr);
  EXPECT_EQ(sgd->options().learning_rate, 0.05f);
  EXPECT_EQ(sgd->options().momentum, 0.9f);
  EXPECT_TRUE(sgd->options().nesterov);
  EXPECT_TRUE(loaded.info.class_names.empty());
  EXPECT_TRUE(loaded.info.feature_names.empty());
  EXPECT_FALSE(loaded.info.standardizer.has_value());
  EXPECT_TRUE(loaded.info.metadata.empty());

  // The loaded model is compiled: it trains on without further setup.
  Matrix y = Matrix::from_shape({33, 1});
  for (std::size_t r = 0; r < 33; ++r) y(r, 0) = x(r, 0) > 0.0f ? 1.0f : 0.0f;
  FitOptions options;
  options.epochs = 1;
  EXPECT_NO_THROW(loaded.model.fit(x, y, options));
}

TEST_F(ModelFile, UserRegisteredActivationRoundTrips) {
  class Scaled final : public ElementwiseActivation {
   public:
    explicit Scaled(float factor) : factor_(factor) {}
    std::string type_name() const override { return "Scaled"; }
    std::string spec() const override { return factor_ == 2.0f ? "model_file_scaled(2)" : "model_file_scaled(0.5)"; }
    float value(float x) const override { return factor_ * x; }
    float gradient(float, float) const override { return factor_; }

   private:
    float factor_;
  };
  register_activation("model_file_scaled", [](const std::vector<std::string>& args) -> std::unique_ptr<Activation> {
    return std::make_unique<Scaled>(parse_activation_argument("model_file_scaled", args.at(0)));
  });
  Sequential model;
  model.add(std::make_unique<Dense>(3, 2)).add(make_activation("model_file_scaled(2)"));
  model.compile("mse", "sgd");
  model.build(2);
  save_model(path("scaled.xdm").string(), model, {});
  SavedModel loaded = load_model(path("scaled.xdm").string());
  EXPECT_EQ(dynamic_cast<const Activation&>(loaded.model.layer(1)).spec(), "model_file_scaled(2)");
  const Matrix x = random_matrix(5, 2, 5);
  EXPECT_TRUE(bit_identical(model.predict(x), loaded.model.predict(x)));
}

TEST_F(ModelFile, ActivationOnlyModelRoundTrips) {
  // No Dense layer: the input width comes from the architecture's input_units field.
  Sequential model;
  model.add("tanh");
  model.compile("mse", "adam");
  model.build(3);
  save_model(path("tanh.xdm").string(), model, {});
  SavedModel loaded = load_model(path("tanh.xdm").string());
  EXPECT_EQ(loaded.model.input_units(), 3u);
  const Matrix x = random_matrix(2, 3, 6);
  EXPECT_TRUE(bit_identical(model.predict(x), loaded.model.predict(x)));
}

// ---------------------------------------------------------------- the documented byte layout

/// Writes files field by field as docs/model-format.md describes them, independently of save_model().
class Encoder {
 public:
  void u8(std::uint8_t v) { payload_.push_back(v); }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) payload_.push_back(static_cast<unsigned char>(v >> (8 * i)));
  }
  void u64(std::uint64_t v) {
    u32(static_cast<std::uint32_t>(v));
    u32(static_cast<std::uint32_t>(v >> 32));
  }
  void f32(float v) {
    std::uint32_t bits;
    std::memcpy(&bits, &v, 4);
    u32(bits);
  }
  void str(const std::string& s) {
    u32(static_cast<std::uint32_t>(s.size()));
    payload_.insert(payload_.end(), s.begin(), s.end());
  }
  void strings(const std::vector<std::string>& list) {
    u32(static_cast<std::uint32_t>(list.size()));
    for (const auto& s : list) str(s);
  }
  /// Header + payload + CRC-32 trailer.
  Bytes file(std::uint32_t version) const {
    Bytes b = {'X', 'D', 'E', 'N', 'S', 'E', 'M', 0x1a};
    b.resize(24);
    set_u32(b, 8, version);
    set_u32(b, 12, 0);
    set_u64(b, 16, payload_.size());
    b.insert(b.end(), payload_.begin(), payload_.end());
    b.resize(b.size() + 4);
    fix_checksum(b);
    return b;
  }

 private:
  Bytes payload_;
};

/// The info section (the same in versions 1 and 2; version 3 adds the task and the targets); the
/// defaults fit a 2-input binary classifier.
struct InfoSpec {
  std::vector<std::string> class_names = {"no", "yes"};
  std::vector<std::string> feature_names = {"a", "b"};
  std::uint8_t has_standardizer = 1;
  std::uint64_t standardizer_size = 2;
  std::vector<float> mean = {1.0f, -1.0f};
  std::vector<float> scale = {2.0f, 0.5f};
  std::vector<std::pair<std::string, std::string>> metadata = {{"epochs", "10"}};
  // version 3
  std::string task = "classification";
  std::vector<std::string> target_names;
  std::uint8_t has_target_standardizer = 0;
  std::uint64_t target_standardizer_size = 1;
  std::vector<float> target_mean = {100.0f};
  std::vector<float> target_scale = {20.0f};

  void encode_info(Encoder& e, std::uint32_t version = 1) const {
    // bool has, then u64 n, f32 mean[n], f32 scale[n]
    const auto standardizer = [&e](std::uint8_t has, std::uint64_t n, const std::vector<float>& m,
                                   const std::vector<float>& s) {
      e.u8(has);
      if (!has) return;
      e.u64(n);
      for (float v : m) e.f32(v);
      for (float v : s) e.f32(v);
    };
    e.strings(class_names);
    e.strings(feature_names);
    standardizer(has_standardizer, standardizer_size, mean, scale);
    e.u32(static_cast<std::uint32_t>(metadata.size()));
    for (const auto& [k, v] : metadata) {
      e.str(k);
      e.str(v);
    }
    if (version < 3) return;
    e.str(task);
    e.strings(target_names);
    standardizer(has_target_standardizer, target_standardizer_size, target_mean, target_scale);
  }
};

// ---------------------------------------------------------------- versions 3 and 2

/// One named tensor of a hand-written version-2 layer.
struct TensorSpec {
  std::string name;
  std::vector<std::uint64_t> shape;
  std::vector<float> values;
};

/// `n` values i * 0.125 - 1 for i = first, first + 1, ...
std::vector<float> ramp(std::size_t first, std::size_t n) {
  std::vector<float> values;
  for (std::size_t i = first; i < first + n; ++i) values.push_back(static_cast<float>(i) * 0.125f - 1.0f);
  return values;
}

struct LayerSpecV2 {
  std::string kind;
  std::string config;
  std::vector<TensorSpec> tensors;
};

/// A Dense layer (in -> units) as save_model() writes it, with ramp() weights.
LayerSpecV2 dense_v2(std::size_t in, std::size_t units, bool use_bias = true) {
  const Config config = {{"units", units},
                         {"use_bias", use_bias},
                         {"kernel_initializer", "glorot_uniform"},
                         {"bias_initializer", "zeros"}};
  LayerSpecV2 l{"Dense", config.dump(), {{"kernel", {in, units}, ramp(0, in * units)}}};
  if (use_bias) l.tensors.push_back({"bias", {units}, ramp(in * units, units)});
  return l;
}

LayerSpecV2 activation_v2(const std::string& spec) { return {"Activation", Config{{"activation", spec}}.dump(), {}}; }

/// Every field of a hand-written version-3 file (or version 2: metrics as names only, no task or
/// targets in the info); the defaults are the model of FileSpec's defaults.
struct FileSpecV3 : InfoSpec {
  std::uint32_t version = 3;
  std::uint64_t input_units = 2;
  std::vector<LayerSpecV2> layers = {dense_v2(2, 3), activation_v2("relu"), dense_v2(3, 1), activation_v2("sigmoid")};
  std::string loss = "binary_crossentropy";
  std::string loss_config = "{}";
  std::string optimizer = "sgd";
  std::string optimizer_config = Config{{"learning_rate", 0.1f}, {"momentum", 0.5f}, {"nesterov", true}}.dump();
  std::vector<std::string> metrics = {"accuracy"};
  std::vector<std::string> metric_configs;  ///< version 3: the config of each metric, "{}" when absent
  Bytes extra;  ///< appended to the payload

  Bytes encode() const {
    Encoder e;
    e.u64(input_units);
    e.u32(static_cast<std::uint32_t>(layers.size()));
    for (const LayerSpecV2& l : layers) {
      e.str(l.kind);
      e.str(l.config);
      e.u32(static_cast<std::uint32_t>(l.tensors.size()));
      for (const TensorSpec& t : l.tensors) {
        e.str(t.name);
        e.u32(static_cast<std::uint32_t>(t.shape.size()));
        for (std::uint64_t d : t.shape) e.u64(d);
        for (float v : t.values) e.f32(v);
      }
    }
    e.str(loss);
    e.str(loss_config);
    e.str(optimizer);
    e.str(optimizer_config);
    if (version == 2) {
      e.strings(metrics);
    } else {
      e.u32(static_cast<std::uint32_t>(metrics.size()));
      for (std::size_t i = 0; i < metrics.size(); ++i) {
        e.str(metrics[i]);
        e.str(i < metric_configs.size() ? metric_configs[i] : "{}");
      }
    }
    encode_info(e, version);
    for (unsigned char c : extra) e.u8(c);
    return e.file(version);
  }
};

// ---------------------------------------------------------------- version 1 (xdense 0.2), read only

/// One layer of a hand-written version-1 file.
struct LayerSpec {
  std::uint8_t kind = 1;
  std::uint64_t input_units = 0;
  std::uint64_t units = 0;
  std::uint8_t use_bias = 1;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  std::string spec;
};

LayerSpec dense(std::uint64_t in, std::uint64_t units) {
  LayerSpec l;
  l.input_units = in;
  l.units = units;
  return l;
}

LayerSpec activation(const std::string& spec) {
  LayerSpec l;
  l.kind = 2;
  l.spec = spec;
  return l;
}

/// Every field of a hand-written version-1 file; the defaults make a valid 2-3-1 binary classifier.
struct FileSpec : InfoSpec {
  std::uint64_t input_units = 2;
  std::vector<LayerSpec> layers = {dense(2, 3), activation("relu"), dense(3, 1), activation("sigmoid")};
  std::string loss = "binary_crossentropy";
  std::string optimizer = "sgd";
  float learning_rate = 0.1f;
  float momentum = 0.5f;
  std::uint8_t nesterov = 1;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float epsilon = 1e-7f;
  std::vector<std::string> metrics = {"accuracy"};
  /// Per Dense layer: kernel (row-major) then bias. Filled with i * 0.125 - 1 when left empty.
  std::vector<std::vector<float>> weights;
  Bytes extra;  ///< appended to the payload

  Bytes encode() const {
    Encoder e;
    e.u64(input_units);
    e.u32(static_cast<std::uint32_t>(layers.size()));
    for (const LayerSpec& l : layers) {
      e.u8(l.kind);
      if (l.kind == 1) {
        e.u64(l.input_units);
        e.u64(l.units);
        e.u8(l.use_bias);
        e.str(l.kernel_initializer);
        e.str(l.bias_initializer);
      } else {
        e.str(l.spec);
      }
    }
    e.str(loss);
    e.str(optimizer);
    e.f32(learning_rate);
    e.f32(momentum);
    e.u8(nesterov);
    e.f32(beta1);
    e.f32(beta2);
    e.f32(epsilon);
    e.strings(metrics);
    encode_info(e);
    std::size_t d = 0;
    for (const LayerSpec& l : layers) {
      if (l.kind != 1) continue;
      if (d < weights.size()) {
        for (float v : weights[d]) e.f32(v);
      } else {
        const std::size_t n = l.input_units * l.units + l.units;
        for (std::size_t i = 0; i < n; ++i) e.f32(static_cast<float>(i) * 0.125f - 1.0f);
      }
      ++d;
    }
    for (unsigned char c : extra) e.u8(c);
    return e.file(1);
  }
};

TEST_F(ModelFile, HeaderAndTrailerAreAsDocumented) {
  const Bytes b = saved_bytes();
  ASSERT_GE(b.size(), 28u);
  EXPECT_EQ(std::memcmp(b.data(), "XDENSEM\x1a", 8), 0);
  EXPECT_EQ(get_u32(b, 8), model_format_version);
  EXPECT_EQ(get_u32(b, 12), 0u);
  EXPECT_EQ(get_u32(b, 16) | static_cast<std::uint64_t>(get_u32(b, 20)) << 32, b.size() - 28);
  EXPECT_EQ(get_u32(b, b.size() - 4), crc32_of(b.data(), b.size() - 4));  // zlib's crc32 is standard CRC-32
}

TEST_F(ModelFile, SavedBytesMatchTheIndependentEncoder) {
  // Same model written both ways must give the same bytes: save_model follows the documented layout.
  const FileSpecV3 spec;
  write_bytes(path("hand.xdm"), spec.encode());
  SavedModel loaded = load_model(path("hand.xdm").string());
  save_model(path("resaved.xdm").string(), loaded.model, loaded.info);
  EXPECT_EQ(read_bytes(path("resaved.xdm")), spec.encode());
}

TEST_F(ModelFile, Version1FileResavesAsTheSameModelInVersion3) {
  // A version-1 file maps onto the registries: Dense and Activation layers, SGD with its config.
  write_bytes(path("v1.xdm"), FileSpec{}.encode());
  SavedModel loaded = load_model(path("v1.xdm").string());
  save_model(path("v3.xdm").string(), loaded.model, loaded.info);
  EXPECT_EQ(read_bytes(path("v3.xdm")), FileSpecV3{}.encode());
}

TEST_F(ModelFile, Version2FileResavesAsTheSameModelInVersion3) {
  FileSpecV3 v2;
  v2.version = 2;
  write_bytes(path("v2.xdm"), v2.encode());
  SavedModel loaded = load_model(path("v2.xdm").string());
  EXPECT_EQ(loaded.info.task, "classification");
  save_model(path("v3.xdm").string(), loaded.model, loaded.info);
  EXPECT_EQ(read_bytes(path("v3.xdm")), FileSpecV3{}.encode());
}

TEST_F(ModelFile, Version2TensorsAreMatchedByName) {
  FileSpecV3 spec;
  std::vector<TensorSpec>& tensors = spec.layers[0].tensors;
  std::swap(tensors[0], tensors[1]);  // bias stored before kernel
  tensors[0].values = {0.5f, 0.25f, -10};
  tensors[1].values = {1, 2, 3, -4, -5, -6};
  write_bytes(path("named.xdm"), spec.encode());
  SavedModel loaded = load_model(path("named.xdm").string());
  const Layer& first = loaded.model.layer(0);
  EXPECT_EQ(first.kind(), "Dense");
  EXPECT_EQ(first.config().dump(), spec.layers[0].config);
  const std::vector<Parameter> weights = first.weights();
  ASSERT_EQ(weights.size(), 2u);
  EXPECT_EQ(weights[0].name, "kernel");
  EXPECT_EQ(weights[0].value[2], 3.0f);   // W(0, 2)
  EXPECT_EQ(weights[0].value[3], -4.0f);  // W(1, 0)
  EXPECT_EQ(weights[1].name, "bias");
  EXPECT_EQ(weights[1].value[2], -10.0f);
}

TEST_F(ModelFile, HandWrittenFileLoadsAsDocumented) {
  FileSpec spec;
  // Dense 0: kernel (2, 3) row-major, then bias (3); Dense 1: kernel (3, 1), bias (1).
  spec.weights = {{1, 2, 3, -4, -5, -6, 0.5f, 0.25f, -10}, {1, -1, 2, 0.5f}};
  write_bytes(path("hand.xdm"), spec.encode());
  SavedModel loaded = load_model(path("hand.xdm").string());

  const auto& first = dynamic_cast<const Dense&>(loaded.model.layer(0));
  EXPECT_EQ(first.kernel()(0, 2), 3.0f);
  EXPECT_EQ(first.kernel()(1, 0), -4.0f);
  EXPECT_EQ(first.bias()(2), -10.0f);
  EXPECT_EQ(loaded.model.loss()->name(), "binary_crossentropy");
  EXPECT_TRUE(loaded.model.has_accuracy());
  const auto* sgd = dynamic_cast<const SGD*>(loaded.model.optimizer());
  ASSERT_NE(sgd, nullptr);
  EXPECT_EQ(sgd->options().learning_rate, 0.1f);
  EXPECT_EQ(sgd->options().momentum, 0.5f);
  EXPECT_TRUE(sgd->options().nesterov);
  EXPECT_EQ(loaded.info.class_names, spec.class_names);
  EXPECT_EQ(loaded.info.feature_names, spec.feature_names);
  EXPECT_EQ(loaded.info.metadata, spec.metadata);
  ASSERT_TRUE(loaded.info.standardizer);
  EXPECT_EQ(loaded.info.standardizer->scale()(1), 0.5f);

  // x = (2, 0): h = relu(x . W0 + b0) = relu((2, 4, 6) + (0.5, 0.25, -10)) = (2.5, 4.25, 0);
  // z = h . W1 + b1 = 2.5 - 4.25 + 0 + 0.5 = -1.25; p = sigmoid(z).
  Matrix x = {{2.0f, 0.0f}};
  EXPECT_NEAR(loaded.model.predict(x)(0, 0), 1.0 / (1.0 + std::exp(1.25)), 1e-6);
}

TEST_F(ModelFile, FewerClassNamesThanOutputUnitsAreAllowed) {
  // Classes missing from the training data leave output units without a name.
  FileSpec spec;
  spec.class_names = {"only"};
  write_bytes(path("one.xdm"), spec.encode());
  EXPECT_EQ(load_model(path("one.xdm").string()).info.class_names, spec.class_names);

  Sequential model = classifier();
  ModelInfo info;
  info.class_names = {"a", "b"};
  save_model(path("two.xdm").string(), model, info);
  EXPECT_EQ(load_model(path("two.xdm").string()).info.class_names, info.class_names);
}

// ---------------------------------------------------------------- damaged files

TEST_F(ModelFile, TruncatedFilesAreRejected) {
  const Bytes b = saved_bytes();
  const std::size_t payload_end = b.size() - 4;
  for (std::size_t keep : {std::size_t{1}, std::size_t{7}, std::size_t{8}, std::size_t{12}, std::size_t{23},
                           std::size_t{24}, std::size_t{25}, std::size_t{40}, b.size() / 2, payload_end - 1,
                           payload_end, payload_end + 2, b.size() - 1}) {
    write_bytes(path("cut.xdm"), Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(keep)));
    const std::string message = load_error(path("cut.xdm"));
    EXPECT_TRUE(contains(message, "truncated")) << "kept " << keep << " bytes: " << message;
    EXPECT_TRUE(contains(message, path("cut.xdm").string())) << message;
  }
}

TEST_F(ModelFile, EveryFlippedByteIsRejected) {
  const Bytes original = saved_bytes();
  for (std::size_t at = 0; at < original.size(); ++at) {
    for (unsigned char mask : {0x01, 0xff}) {
      Bytes b = original;
      b[at] ^= mask;
      write_bytes(path("flipped.xdm"), b);
      const std::string message = load_error(path("flipped.xdm"));
      const bool explained = contains(message, "checksum mismatch") || contains(message, "not an xdense model") ||
                             contains(message, "format version") || contains(message, "truncated") ||
                             contains(message, "trailing bytes");
      EXPECT_TRUE(explained) << "byte " << at << " ^ " << int(mask) << ": " << message;
      if (at >= 24) {
        EXPECT_TRUE(contains(message, "corrupted: checksum mismatch")) << at << ": " << message;
      }
    }
  }
}

TEST_F(ModelFile, RandomEditsWithAValidChecksumNeverCrash) {
  // Past the checksum the parser sees arbitrary bytes: it must load them or throw DataError,
  // never crash, over-allocate or throw anything else.
  const Bytes original = saved_bytes();
  Rng rng(2024);
  std::size_t loaded = 0;
  for (int trial = 0; trial < 1500; ++trial) {
    Bytes b = original;
    const std::uint64_t edits = 1 + rng.below(4);
    for (std::uint64_t k = 0; k < edits; ++k) {
      const std::size_t at = 24 + rng.below(b.size() - 28);
      b[at] = trial % 3 == 0 ? static_cast<unsigned char>(0xff) : static_cast<unsigned char>(rng.below(256));
    }
    if (trial % 5 == 0) {  // also shorten the payload, keeping the header's length consistent
      const std::size_t cut = 1 + rng.below(b.size() - 29);
      b.erase(b.end() - 4 - static_cast<std::ptrdiff_t>(cut), b.end() - 4);
      set_u64(b, 16, b.size() - 28);
    }
    fix_checksum(b);
    write_bytes(path("edited.xdm"), b);
    try {
      load_model(path("edited.xdm").string());
      ++loaded;
    } catch (const DataError& e) {
      EXPECT_TRUE(contains(e.what(), ": invalid ")) << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "trial " << trial << ": not a DataError: " << e.what();
    }
  }
  EXPECT_GT(loaded, 0u);  // edits inside the weights give a valid, different model
}

TEST_F(ModelFile, WrongMagicIsNotAModelFile) {
  Bytes b = saved_bytes();
  b[3] = 'X';
  write_bytes(path("magic.xdm"), b);
  EXPECT_TRUE(contains(load_error(path("magic.xdm")), "not an xdense model file"));
  write_bytes(path("text.csv"), Bytes{'a', ',', 'b', '\n', '1', ',', '2', '\n'});
  EXPECT_TRUE(contains(load_error(path("text.csv")), "not an xdense model file"));
  write_bytes(path("short.txt"), Bytes{'h', 'i'});
  EXPECT_TRUE(contains(load_error(path("short.txt")), "not an xdense model file"));
}

TEST_F(ModelFile, FutureVersionAsksForAnUpgrade) {
  Bytes b = saved_bytes();
  set_u32(b, 8, 7);
  fix_checksum(b);  // so that it is the version check, not the checksum, that fires
  write_bytes(path("future.xdm"), b);
  const std::string message = load_error(path("future.xdm"));
  EXPECT_EQ(message, path("future.xdm").string() + ": format version 7 is newer than this xdense supports (" +
                         std::to_string(model_format_version) + "); upgrade xdense");
  set_u32(b, 8, 0);
  fix_checksum(b);
  write_bytes(path("zero.xdm"), b);
  EXPECT_TRUE(contains(load_error(path("zero.xdm")), "invalid format version 0"));
}

TEST_F(ModelFile, NonZeroFlagsAreRejected) {
  Bytes b = saved_bytes();
  set_u32(b, 12, 4);
  fix_checksum(b);
  write_bytes(path("flags.xdm"), b);
  EXPECT_TRUE(contains(load_error(path("flags.xdm")), "unsupported flags 0x00000004"));
}

TEST_F(ModelFile, TrailingGarbageIsRejected) {
  Bytes b = saved_bytes();
  b.push_back('\n');
  b.push_back('x');
  write_bytes(path("trailing.xdm"), b);
  EXPECT_TRUE(contains(load_error(path("trailing.xdm")), "2 trailing bytes after the checksum"));
}

TEST_F(ModelFile, EmptyMissingAndDirectoryPathsAreRejected) {
  write_bytes(path("empty.xdm"), {});
  const std::string empty = load_error(path("empty.xdm"));
  EXPECT_TRUE(contains(empty, "not an xdense model file")) << empty;
  EXPECT_TRUE(contains(empty, "empty")) << empty;

  const std::string missing = load_error(path("missing.xdm"));
  EXPECT_EQ(missing, path("missing.xdm").string() + ": cannot open file: No such file or directory");

  fs::create_directory(path("folder.xdm"));
  EXPECT_EQ(load_error(path("folder.xdm")), path("folder.xdm").string() + ": is a directory");
}

// ---------------------------------------------------------------- well-formed files with invalid fields

/// Writes `spec`, loads it, and checks the DataError names the file and contains `fragment`.
template <typename Spec>
void expect_invalid(const fs::path& file, const Spec& spec, const std::string& fragment) {
  write_bytes(file, spec.encode());
  const std::string message = load_error(file);
  EXPECT_TRUE(contains(message, file.string() + ": invalid ")) << message;
  EXPECT_TRUE(contains(message, fragment)) << "expected '" << fragment << "' in: " << message;
}

TEST_F(ModelFile, InvalidArchitectureFieldsAreRejected) {
  const fs::path file = path("bad.xdm");
  FileSpec spec;
  spec.layers[1].kind = 9;
  expect_invalid(file, spec, "layer 1: unknown layer kind 9");

  spec = FileSpec{};
  spec.layers[1] = activation("swish_unknown");
  expect_invalid(file, spec, "unknown activation 'swish_unknown'");

  spec = FileSpec{};
  spec.layers[1] = activation("leaky_relu(-1)");
  expect_invalid(file, spec, "layer 1 (activation 'leaky_relu(-1)')");

  spec = FileSpec{};
  spec.layers[2].units = 0;
  spec.weights = {std::vector<float>(6 + 3, 0.0f), {}};
  expect_invalid(file, spec, "layer 2 (dense): units 0");

  spec = FileSpec{};
  spec.layers[2] = dense(4, 1);
  expect_invalid(file, spec, "layer 2 (dense): input_units 4 does not match the 3 outputs of the layer before it");

  spec = FileSpec{};
  spec.input_units = 5;
  spec.has_standardizer = 0;
  spec.feature_names.clear();
  expect_invalid(file, spec, "layer 0 (dense): input_units 2 does not match the model's 5 inputs");

  spec = FileSpec{};
  spec.input_units = 0;
  expect_invalid(file, spec, "architecture: input_units 0");

  spec = FileSpec{};
  spec.layers.clear();
  spec.class_names.clear();
  expect_invalid(file, spec, "architecture: the model has no layers");

  spec = FileSpec{};
  spec.layers[0].kernel_initializer = "lecun_magic";
  expect_invalid(file, spec, "layer 0 (dense): ");

  spec = FileSpec{};
  spec.layers[2].use_bias = 2;
  expect_invalid(file, spec, "layer 2 (dense): use_bias: expected 0 or 1, found 2");

  spec = FileSpec{};
  spec.layers[2] = dense(3, std::uint64_t{1} << 40);  // absurd: caught before any allocation
  spec.weights = {{}, {}};
  expect_invalid(file, spec, "units 1099511627776");

  spec = FileSpec{};
  spec.layers = {dense(2, 40000), activation("relu"), dense(40000, 40000), dense(40000, 1)};
  spec.weights = {{}, {}, {}};  // 6.4 GB of weights announced, none present
  expect_invalid(file, spec, "weights cannot fit in the");
}

TEST_F(ModelFile, InvalidCompileFieldsAreRejected) {
  const fs::path file = path("bad.xdm");
  FileSpec spec;
  spec.loss = "hinge_embedding";
  expect_invalid(file, spec, "compile: unknown loss 'hinge_embedding'");

  spec = FileSpec{};
  spec.optimizer = "lamb";
  expect_invalid(file, spec, "compile: unknown optimizer 'lamb' (expected sgd or adam)");

  spec = FileSpec{};
  spec.learning_rate = -0.1f;
  expect_invalid(file, spec, "learning_rate=-0.1");

  spec = FileSpec{};
  spec.momentum = 1.5f;
  expect_invalid(file, spec, "momentum");

  spec = FileSpec{};
  spec.optimizer = "adam";
  spec.beta2 = 1.0f;
  expect_invalid(file, spec, "beta2");

  spec = FileSpec{};
  spec.epsilon = std::numeric_limits<float>::quiet_NaN();
  expect_invalid(file, spec, "compile: non-finite optimizer hyperparameter");

  spec = FileSpec{};
  spec.nesterov = 7;
  expect_invalid(file, spec, "compile: nesterov: expected 0 or 1, found 7");

  spec = FileSpec{};
  spec.metrics = {"no_such_metric"};
  expect_invalid(file, spec, "unknown metric 'no_such_metric'");

  spec = FileSpec{};
  spec.loss = "categorical_crossentropy";  // with a sigmoid output: Sequential refuses it
  spec.layers[3] = activation("softmax");
  spec.class_names.clear();
  expect_invalid(file, spec, "model: ");
}

TEST_F(ModelFile, InvalidInfoAndWeightsAreRejected) {
  const fs::path file = path("bad.xdm");
  FileSpec spec;
  spec.standardizer_size = 3;
  spec.mean = {0, 0, 0};
  spec.scale = {1, 1, 1};
  expect_invalid(file, spec, "info: the standardizer has 3 features, the model 2 inputs");

  spec = FileSpec{};
  spec.scale = {1.0f, 0.0f};
  expect_invalid(file, spec, "info: Standardizer");

  spec = FileSpec{};
  spec.mean = {std::numeric_limits<float>::infinity(), 0.0f};
  expect_invalid(file, spec, "info: Standardizer");

  spec = FileSpec{};
  spec.class_names = {"a", "b", "c"};
  expect_invalid(file, spec, "info: 3 class names for a model with 1 output unit (at most 2)");

  spec = FileSpec{};
  spec.feature_names = {"only one"};
  expect_invalid(file, spec, "info: 1 feature names for a model with 2 inputs");

  spec = FileSpec{};
  spec.weights = {std::vector<float>(6 + 3, 0.0f), {1.0f, std::nanf(""), 0.0f, 0.0f}};
  expect_invalid(file, spec, "layer 2 (dense): non-finite weights");

  spec = FileSpec{};
  spec.layers[0].use_bias = 0;
  spec.weights = {{1, 2, 3, 4, 5, 6, 0, 0.5f, 0}};
  expect_invalid(file, spec, "layer 0 (dense): non-zero bias in a layer without bias");

  spec = FileSpec{};
  spec.extra = {0, 0, 0};
  expect_invalid(file, spec, "payload: 3 unread bytes after the weights");

  // Drop the last 4 weight floats but keep the header consistent: the file is well-formed, the payload short.
  Bytes b = FileSpec{}.encode();
  b.erase(b.end() - 20, b.end() - 4);
  set_u64(b, 16, b.size() - 28);
  fix_checksum(b);
  write_bytes(file, b);
  EXPECT_TRUE(contains(load_error(file), "layer 2 (dense): "));
}

TEST_F(ModelFile, AbsurdLengthsAndCountsAreRejectedBeforeAllocating) {
  const fs::path file = path("bad.xdm");
  const Bytes good = FileSpec{}.encode();

  Bytes b = good;
  set_u32(b, 32, 0xffffffffu);  // architecture layer count (after u64 input_units)
  fix_checksum(b);
  write_bytes(file, b);
  EXPECT_TRUE(contains(load_error(file), "architecture: layer count 4294967295 cannot fit in the"));

  b = good;
  set_u32(b, find_text(b, "binary_crossentropy") - 4, 0xffffffffu);
  fix_checksum(b);
  write_bytes(file, b);
  EXPECT_TRUE(contains(load_error(file), "compile: loss name: length 4294967295 exceeds the 1 MiB limit"));

  b = good;
  set_u32(b, find_text(b, "binary_crossentropy") - 4, 1000);  // under the cap, over the bytes left
  fix_checksum(b);
  write_bytes(file, b);
  EXPECT_TRUE(contains(load_error(file), "compile: loss name: needs more bytes than the"));

  b = good;
  set_u32(b, find_text(b, "no") - 8, 0x7fffffffu);  // class name count
  fix_checksum(b);
  write_bytes(file, b);
  EXPECT_TRUE(contains(load_error(file), "info: class name count 2147483647 cannot fit"));

  FileSpec spec;
  spec.standardizer_size = std::uint64_t{1} << 62;
  spec.input_units = std::uint64_t{1} << 62;
  expect_invalid(file, spec, "architecture: input_units 4611686018427387904");
}

TEST_F(ModelFile, InvalidVersion2LayersAreRejected) {
  const fs::path file = path("bad.xdm");
  FileSpecV3 spec;
  spec.layers[0].config = "{\"units\": 3,";
  expect_invalid(file, spec, "layer 0 (Dense): config: invalid JSON: ");

  spec = FileSpecV3{};
  spec.layers[0].config = "[3]";
  expect_invalid(file, spec, "layer 0 (Dense): config: expected a JSON object, found '[3]'");

  spec = FileSpecV3{};
  spec.layers[1].config = "{\"activation\": " + std::string(40, '[') + std::string(40, ']') + "}";
  expect_invalid(file, spec, "layer 1 (Activation): config: nested deeper than 32 levels");

  spec = FileSpecV3{};
  spec.layers[0].kind = "Conv9";
  expect_invalid(file, spec, "layer 0 (Conv9): unknown layer 'Conv9' (expected one of: Activation, BatchNormalization, Dense");

  spec = FileSpecV3{};
  spec.layers[0].config = R"({"units": 0})";
  expect_invalid(file, spec, "layer 0 (Dense): Dense config: \"units\": expected a positive integer");

  spec = FileSpecV3{};
  spec.layers[1] = activation_v2("swish_unknown");
  expect_invalid(file, spec, "layer 1 (Activation): unknown activation 'swish_unknown'");

  spec = FileSpecV3{};
  spec.layers[0].tensors.pop_back();
  expect_invalid(file, spec, "layer 0 (Dense): missing tensor 'bias' (the layer has 'kernel' (2, 3), 'bias' (3,))");

  spec = FileSpecV3{};
  spec.layers[2].tensors.push_back({"gamma", {1}, {1.0f}});
  expect_invalid(file, spec, "layer 2 (Dense): unexpected tensor 'gamma' (the layer has 'kernel' (3, 1), 'bias' (1,))");

  spec = FileSpecV3{};
  spec.layers[0] = dense_v2(2, 3, /*use_bias=*/false);
  spec.layers[0].tensors.push_back({"bias", {3}, {0.0f, 0.0f, 0.0f}});
  expect_invalid(file, spec, "layer 0 (Dense): unexpected tensor 'bias' (the layer has 'kernel' (2, 3))");

  spec = FileSpecV3{};
  spec.layers[0].tensors[1] = spec.layers[0].tensors[0];
  expect_invalid(file, spec, "layer 0 (Dense): two tensors named 'kernel'");

  spec = FileSpecV3{};
  spec.layers[0].tensors[0].shape = {3, 2};
  expect_invalid(file, spec, "layer 0 (Dense): tensor 'kernel' has shape (3, 2), the layer (2, 3)");

  spec = FileSpecV3{};
  spec.layers[0].tensors[0].shape = {1, 1, 1, 1, 1, 1, 1, 2, 3};
  expect_invalid(file, spec, "layer 0 (Dense): tensor 'kernel': rank 9 (expected 1 to 8)");
  spec.layers[0].tensors[0].shape = {};
  expect_invalid(file, spec, "layer 0 (Dense): tensor 'kernel': rank 0 (expected 1 to 8)");

  spec = FileSpecV3{};
  spec.layers[0].tensors[0].shape = {std::uint64_t{1} << 40, std::uint64_t{1} << 40};  // 2^80 values: overflow
  expect_invalid(file, spec, "layer 0 (Dense): tensor 'kernel': shape (1099511627776,)... cannot fit in the");
  spec.layers[0].tensors[0].shape = {100, 100};  // each fits in the bytes left, not their product
  expect_invalid(file, spec, "layer 0 (Dense): tensor 'kernel': shape (100, 100)... cannot fit in the");

  spec = FileSpecV3{};
  spec.layers[2].tensors[0].values[1] = std::nanf("");
  expect_invalid(file, spec, "layer 2 (Dense): tensor 'kernel': non-finite weights (NaN or infinity)");

  // A corrupted input width or config is refused before the layers are built for it: Dense declares
  // its arrays for a given width (Layer::shape_for), checked against the stored ones first.
  spec = FileSpecV3{};
  spec.input_units = std::uint64_t{1} << 30;
  spec.has_standardizer = 0;
  spec.feature_names.clear();
  expect_invalid(file, spec, "layer 0 (Dense): tensor 'kernel' has shape (2, 3), the layer (1073741824, 3)");
  spec = FileSpecV3{};
  spec.layers[2].config = dense_v2(3, 1u << 22).config;
  expect_invalid(file, spec, "layer 2 (Dense): tensor 'kernel' has shape (3, 1), the layer (3, 4194304)");
  spec = FileSpecV3{};  // 2^30 units: refused before its 12 GiB kernel is allocated
  spec.layers[2].config = R"({"units":1073741824,"use_bias":true,"kernel_initializer":"glorot_uniform","bias_initializer":"zeros"})";
  expect_invalid(file, spec, "layer 2 (Dense): tensor 'kernel' has shape (3, 1), the layer (3, 1073741824)");

  Bytes b = FileSpecV3{}.encode();
  set_u32(b, 32, 0xffffffffu);  // layer count (after u64 input_units)
  fix_checksum(b);
  write_bytes(file, b);
  EXPECT_TRUE(contains(load_error(file), "architecture: layer count 4294967295 cannot fit in the"));

  b = FileSpecV3{}.encode();
  set_u32(b, find_text(b, std::string("\x06\0\0\0kernel", 10)) - 4, 0x7fffffffu);  // tensor count of layer 0
  fix_checksum(b);
  write_bytes(file, b);
  EXPECT_TRUE(contains(load_error(file), "layer 0 (Dense): tensor count 2147483647 cannot fit in the"));
}

TEST_F(ModelFile, InvalidVersion2CompileAndPayloadAreRejected) {
  const fs::path file = path("bad.xdm");
  using Edit = std::function<void(FileSpecV3&)>;
  const std::vector<std::pair<Edit, std::string>> cases = {
      {[](FileSpecV3& s) { s.loss = "hinge_embedding"; }, "compile: unknown loss 'hinge_embedding'"},
      {[](FileSpecV3& s) { s.loss_config = "{"; }, "compile: loss config: invalid JSON"},
      {[](FileSpecV3& s) { s.optimizer = "lamb"; }, "compile: unknown optimizer 'lamb' (expected one of: "},
      {[](FileSpecV3& s) { s.optimizer_config = R"({"lr": 0.1})"; }, "compile: SGD config: \"lr\""},
      {[](FileSpecV3& s) { s.optimizer_config = R"({"learning_rate": -0.1})"; }, "compile: "},
      {[](FileSpecV3& s) { s.optimizer_config = R"({"learning_rate": 1e400})"; }, "compile: optimizer config: invalid JSON"},
      {[](FileSpecV3& s) { s.metrics = {"no_such_metric"}; }, "unknown metric 'no_such_metric'"},
      {[](FileSpecV3& s) { s.metric_configs = {"[1]"}; }, "compile: metric 'accuracy' config: expected a JSON object"},
      {[](FileSpecV3& s) { s.metric_configs = {"{"}; }, "compile: metric 'accuracy' config: invalid JSON"},
      {[](FileSpecV3& s) { s.metric_configs = {R"({"threshold": 7})"}; }, "compile: metric 'accuracy': "},
      {[](FileSpecV3& s) { s.metric_configs = {R"({"no_such_key": 1})"}; }, "compile: metric 'accuracy': "},
      {[](FileSpecV3& s) { s.metrics = {"accuracy", "accuracy"}; }, "already compiled"},
      {[](FileSpecV3& s) { s.class_names = {"a", "b", "c"}; },
       "info: 3 class names for a model with 1 output unit (at most 2)"},
      {[](FileSpecV3& s) { s.extra = {0, 0, 0}; }, "payload: 3 unread bytes after the info"},
  };
  for (const auto& [edit, fragment] : cases) {
    FileSpecV3 spec;
    edit(spec);
    expect_invalid(file, spec, fragment);
  }

  // Drop the last metadata value's bytes but keep the header consistent: the payload is short.
  FileSpecV3 v2;
  v2.version = 2;
  Bytes b = v2.encode();
  b.erase(b.end() - 6, b.end() - 4);
  set_u64(b, 16, b.size() - 28);
  fix_checksum(b);
  write_bytes(file, b);
  EXPECT_TRUE(contains(load_error(file), "info: metadata value 0: needs more bytes than the")) << load_error(file);
}

// ---------------------------------------------------------------- task and targets

/// Two inputs, `targets` linear outputs, mean squared error: a small regressor trained a little.
Sequential regressor(std::size_t targets = 2) {
  Sequential model(5);
  model.add(std::make_unique<Dense>(4, 2)).add("relu");
  model.add(std::make_unique<Dense>(targets));
  model.compile("mse", "adam");
  const Matrix x = random_matrix(16, 2, 3);
  Matrix y = Matrix::from_shape({16, targets});
  for (std::size_t r = 0; r < 16; ++r) {
    for (std::size_t c = 0; c < targets; ++c) y(r, c) = x(r, 0) * static_cast<float>(c + 1) - x(r, 1);
  }
  FitOptions options;
  options.epochs = 2;
  options.batch_size = 4;
  model.fit(x, y, options);
  return model;
}

/// The names of the compiled metrics, in compile order.
std::vector<std::string> metric_names_of(const Sequential& model) {
  std::vector<std::string> names;
  for (const auto& metric : model.metrics()) names.push_back(metric->name());
  return names;
}

/// name + config of each compiled metric.
std::vector<std::string> metric_configs_of(const Sequential& model) {
  std::vector<std::string> configs;
  for (const auto& metric : model.metrics()) configs.push_back(metric->name() + " " + metric->config().dump());
  return configs;
}

TEST_F(ModelFile, RegressorRoundTripKeepsTaskTargetsAndTheirStandardizer) {
  Sequential model = regressor();
  ModelInfo info;
  info.feature_names = {"rooms", "age"};
  info.target_names = {"price", "rent"};
  info.target_standardizer = Standardizer(Vector{123456.5f, 910.25f}, Vector{25000.0f, 120.5f});
  const std::string file = path("regressor.xdm").string();
  save_model(file, model, info);
  SavedModel loaded = load_model(file);
  EXPECT_EQ(loaded.info.task, "regression");
  EXPECT_EQ(loaded.info.target_names, info.target_names);
  EXPECT_TRUE(loaded.info.class_names.empty());
  ASSERT_TRUE(loaded.info.target_standardizer);
  EXPECT_TRUE(bit_identical(loaded.info.target_standardizer->mean(), info.target_standardizer->mean()));
  EXPECT_TRUE(bit_identical(loaded.info.target_standardizer->scale(), info.target_standardizer->scale()));
  EXPECT_EQ(metric_names_of(loaded.model), metric_names_of(model));
  const Matrix x = random_matrix(5, 2, 9);
  EXPECT_TRUE(bit_identical(model.predict(x), loaded.model.predict(x)));
  // Saved again, the same bytes.
  save_model(path("again.xdm").string(), loaded.model, loaded.info);
  EXPECT_EQ(read_bytes(path("again.xdm")), read_bytes(file));
}

TEST_F(ModelFile, MetricsAreStoredWithTheirSettingsAndLoadExactly) {
  Sequential model = binary_model();  // compiled with no metric
  model.add_metric(make_metric("precision", Config{{"threshold", 0.3}}));
  model.add_metric(make_metric("auc"));
  save_model(path("m.xdm").string(), model, ModelInfo{});
  SavedModel loaded = load_model(path("m.xdm").string());
  EXPECT_EQ(metric_names_of(loaded.model), (std::vector<std::string>{"precision", "auc"}));
  EXPECT_EQ(metric_configs_of(loaded.model), metric_configs_of(model));
  // No metric stays no metric: the loss's defaults (accuracy) are not added on loading.
  Sequential none = binary_model();
  save_model(path("none.xdm").string(), none, ModelInfo{});
  EXPECT_TRUE(load_model(path("none.xdm").string()).model.metrics().empty());
  // A regressor's defaults (mae, rmse, r2) round-trip as they are.
  Sequential r = regressor();
  save_model(path("r.xdm").string(), r, ModelInfo{});
  EXPECT_EQ(metric_names_of(load_model(path("r.xdm").string()).model), metric_names_of(r));
}

TEST_F(ModelFile, AnEmptyTaskIsRecordedFromTheLoss) {
  // A library user saving with a default ModelInfo: the loss says what the model is.
  Sequential model = regressor(1);
  save_model(path("r.xdm").string(), model, ModelInfo{});
  EXPECT_EQ(load_model(path("r.xdm").string()).info.task, "regression");

  Sequential binary = binary_model();
  save_model(path("c.xdm").string(), binary, ModelInfo{});
  EXPECT_EQ(load_model(path("c.xdm").string()).info.task, "classification");

  // A classifier trained with mse on one-hot targets keeps its class names: classification.
  Sequential two = regressor(2);
  ModelInfo named;
  named.class_names = {"cat", "dog"};
  save_model(path("mse_classifier.xdm").string(), two, named);
  EXPECT_EQ(load_model(path("mse_classifier.xdm").string()).info.task, "classification");

  // A task given is recorded as given.
  ModelInfo probability;
  probability.task = "regression";
  save_model(path("p.xdm").string(), binary, probability);
  EXPECT_EQ(load_model(path("p.xdm").string()).info.task, "regression");
}

TEST_F(ModelFile, OlderFilesTakeTheirTaskFromTheLossAndClassNames) {
  for (std::uint32_t version : {1u, 2u}) {
    SCOPED_TRACE("version " + std::to_string(version));
    const auto load_with = [&](const std::vector<std::string>& classes) {
      const fs::path file = path("old.xdm");
      if (version == 1) {
        FileSpec spec;
        spec.loss = "mean_squared_error";
        spec.layers[3] = activation("linear");
        spec.class_names = classes;
        write_bytes(file, spec.encode());
      } else {
        FileSpecV3 spec;
        spec.version = 2;
        spec.loss = "mean_squared_error";
        spec.layers[3] = activation_v2("linear");
        spec.class_names = classes;
        write_bytes(file, spec.encode());
      }
      return load_model(file.string()).info;
    };
    const ModelInfo regression = load_with({});
    EXPECT_EQ(regression.task, "regression");
    EXPECT_TRUE(regression.target_names.empty());
    EXPECT_FALSE(regression.target_standardizer);
    EXPECT_EQ(load_with({"no", "yes"}).task, "classification");  // the CLI's mse classifiers of before
  }
  FileSpecV3 v2;
  v2.version = 2;
  write_bytes(path("v2.xdm"), v2.encode());
  EXPECT_EQ(load_model(path("v2.xdm").string()).info.task, "classification");
}

/// FileSpecV3's model as a regressor: one linear output, mean squared error, no metric.
FileSpecV3 regression_spec() {
  FileSpecV3 spec;
  spec.loss = "mean_squared_error";
  spec.layers[3] = activation_v2("linear");
  spec.class_names.clear();
  spec.metrics.clear();
  spec.task = "regression";
  return spec;
}

TEST_F(ModelFile, Version3HandWrittenRegressorLoadsAsDocumented) {
  FileSpecV3 spec = regression_spec();
  spec.target_names = {"price"};
  spec.has_target_standardizer = 1;
  write_bytes(path("r.xdm"), spec.encode());
  SavedModel loaded = load_model(path("r.xdm").string());
  EXPECT_EQ(loaded.info.task, "regression");
  EXPECT_EQ(loaded.info.target_names, spec.target_names);
  ASSERT_TRUE(loaded.info.target_standardizer);
  EXPECT_EQ(loaded.info.target_standardizer->mean()(0), 100.0f);
  EXPECT_EQ(loaded.info.target_standardizer->scale()(0), 20.0f);
  EXPECT_TRUE(metric_names_of(loaded.model).empty());
  save_model(path("again.xdm").string(), loaded.model, loaded.info);
  EXPECT_EQ(read_bytes(path("again.xdm")), spec.encode());
}

TEST_F(ModelFile, InvalidTaskAndTargetsAreRejected) {
  const fs::path file = path("bad.xdm");
  const FileSpecV3 regression = regression_spec();
  using Edit = std::function<void(FileSpecV3&)>;
  const std::vector<std::pair<Edit, std::string>> cases = {
      {[](FileSpecV3& s) { s.task = "clustering"; }, "info: task 'clustering' (expected classification or regression)"},
      {[](FileSpecV3& s) { s.task = ""; }, "info: task '' (expected classification or regression)"},
      {[](FileSpecV3& s) { s.class_names = {"no", "yes"}; }, "info: 2 class names for a regression model"},
      {[](FileSpecV3& s) { s.target_names = {"a", "b"}; },
       "info: 2 target names for a model with 1 output unit (one name per output unit)"},
      {[](FileSpecV3& s) {
         s.has_target_standardizer = 1;
         s.target_standardizer_size = 2;
         s.target_mean = {1, 2};
         s.target_scale = {1, 1};
       },
       "info: the target standardizer has 2 targets, the model 1 output unit"},
      {[](FileSpecV3& s) {
         s.has_target_standardizer = 1;
         s.target_scale = {0.0f};
       },
       "info: target standardizer: Standardizer: scale[0] must be finite and > 0"},
      {[](FileSpecV3& s) {
         s.has_target_standardizer = 1;
         s.target_mean = {std::numeric_limits<float>::infinity()};
       },
       "info: target standardizer: Standardizer: mean[0] must be finite"},
      {[](FileSpecV3& s) {
         s.has_target_standardizer = 1;
         s.target_standardizer_size = 0;
       },
       "info: target standardizer size 0 (expected 1 to 2147483648)"},
      {[](FileSpecV3& s) {
         s.has_target_standardizer = 1;
         s.target_standardizer_size = 1000;
       },
       "info: target standardizer: needs more bytes than the payload has left"},
      {[](FileSpecV3& s) { s.has_target_standardizer = 2; }, "info: has_target_standardizer: expected 0 or 1, found 2"},
      // A classifier names its outputs by class, never by target.
      {[](FileSpecV3& s) {
         s = FileSpecV3{};
         s.target_names = {"y"};
       },
       "info: 1 target names for a classification model"},
      {[](FileSpecV3& s) {
         s = FileSpecV3{};
         s.has_target_standardizer = 1;
       },
       "info: a target standardizer for a classification model"},
  };
  write_bytes(file, regression.encode());
  EXPECT_EQ(load_model(file.string()).info.task, "regression");
  for (const auto& [edit, fragment] : cases) {
    FileSpecV3 spec = regression;
    edit(spec);
    expect_invalid(file, spec, fragment);
  }

  // The task string cut short: the payload ends inside it.
  Bytes b = regression.encode();
  b.erase(b.end() - 4 - 1 - 4 - 4, b.end() - 4);  // has_target_standardizer, target names, 4 bytes of "regression"
  set_u64(b, 16, b.size() - 28);
  fix_checksum(b);
  write_bytes(file, b);
  EXPECT_TRUE(contains(load_error(file), "info: task: needs more bytes than the")) << load_error(file);
}

TEST_F(ModelFile, SaveRefusesInfoThatContradictsTheTask) {
  Sequential model = regressor(2);
  const auto save_error = [&](Sequential& m, const ModelInfo& info) {
    return error_of<InvalidArgument>([&] { save_model(path("refused.xdm").string(), m, info); });
  };
  ModelInfo info;
  info.task = "clustering";
  EXPECT_TRUE(contains(save_error(model, info), "save_model: ModelInfo does not fit the model: task 'clustering'"));
  info = ModelInfo{};
  info.task = "regression";
  info.class_names = {"a", "b"};
  EXPECT_TRUE(contains(save_error(model, info), "2 class names for a regression model"));
  info = ModelInfo{};
  info.target_names = {"a", "b", "c"};
  EXPECT_TRUE(contains(save_error(model, info), "3 target names for a model with 2 output units"));
  info = ModelInfo{};
  info.target_standardizer = Standardizer(Vector{1.0f}, Vector{2.0f});
  EXPECT_TRUE(contains(save_error(model, info), "the target standardizer has 1 targets, the model 2 output units"));
  info = ModelInfo{};
  info.target_standardizer = Standardizer();
  EXPECT_TRUE(contains(save_error(model, info), "the target standardizer is not fitted"));
  Sequential binary = binary_model();
  info = ModelInfo{};
  info.target_names = {"y"};
  EXPECT_TRUE(contains(save_error(binary, info), "1 target names for a classification model"));
  EXPECT_FALSE(fs::exists(path("refused.xdm")));
}

// ---------------------------------------------------------------- saving

TEST_F(ModelFile, SavingOverAnExistingModelReplacesItAndLeavesNoTemporaryFiles) {
  const std::string file = path("model.xdm").string();
  Sequential first = binary_model();
  save_model(file, first, ModelInfo{});
  ::chmod(file.c_str(), 0640);
  Sequential second = classifier();
  save_model(file, second, classifier_info());
  SavedModel loaded = load_model(file);
  const Matrix x = random_matrix(10, 4, 8);
  EXPECT_TRUE(bit_identical(second.predict(x), loaded.model.predict(x)));
  EXPECT_EQ(listing(dir_), std::vector<std::string>{"model.xdm"});
  struct stat st;
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);  // the replaced file's mode is kept
  save_model(path("new.xdm").string(), second, ModelInfo{});
  ASSERT_EQ(::stat(path("new.xdm").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(ModelFile, FailedSaveIntoAMissingFolderCreatesNothing) {
  Sequential model = binary_model();
  const std::string file = path("no/such/folder/model.xdm").string();
  const std::string message = error_of<DataError>([&] { save_model(file, model, ModelInfo{}); });
  EXPECT_TRUE(contains(message, file + ": cannot create a temporary file")) << message;
  EXPECT_TRUE(contains(message, "No such file or directory")) << message;
  EXPECT_TRUE(listing(dir_).empty());
}

TEST_F(ModelFile, AFolderAsTargetIsRefusedAndKept) {
  // The target is a non-empty folder: refused before any temporary file exists.
  fs::create_directory(path("target"));
  write_bytes(path("target") / "keep.txt", {'k'});
  Sequential model = binary_model();
  const std::string message = error_of<DataError>([&] { save_model(path("target").string(), model, ModelInfo{}); });
  EXPECT_EQ(message, path("target").string() + ": is a directory") << message;
  EXPECT_EQ(listing(dir_), std::vector<std::string>{"target"});
  EXPECT_EQ(read_bytes(path("target") / "keep.txt"), Bytes{'k'});
}

TEST_F(ModelFile, RejectedSaveLeavesTheExistingFileUntouched) {
  const Bytes before = saved_bytes("model.xdm");
  Sequential model = binary_model();
  ModelInfo info;
  info.feature_names = {"just one"};
  const std::string message =
      error_of<InvalidArgument>([&] { save_model(path("model.xdm").string(), model, info); });
  EXPECT_TRUE(contains(message, "save_model: ModelInfo does not fit the model: 1 feature names for a model with 3 "
                                "inputs"))
      << message;
  EXPECT_EQ(read_bytes(path("model.xdm")), before);
  EXPECT_EQ(listing(dir_), std::vector<std::string>{"model.xdm"});
}

TEST_F(ModelFile, SavingAnUnbuiltOrUncompiledModelIsAStateError) {
  Sequential unbuilt;
  unbuilt.add(std::make_unique<Dense>(2)).add("relu");
  unbuilt.compile("mse", "sgd");
  EXPECT_TRUE(contains(error_of<StateError>([&] { save_model(path("a.xdm").string(), unbuilt, {}); }), "not built"));

  Sequential uncompiled;
  uncompiled.add(std::make_unique<Dense>(2));
  uncompiled.build(3);
  EXPECT_TRUE(
      contains(error_of<StateError>([&] { save_model(path("b.xdm").string(), uncompiled, {}); }), "not compiled"));
  EXPECT_TRUE(listing(dir_).empty());
}

TEST_F(ModelFile, SaveRejectsWhatTheFormatCannotReproduce) {
  const std::string file = path("m.xdm").string();
  const auto save_error = [&](Sequential& model, const ModelInfo& info = {}) {
    return error_of<InvalidArgument>([&] { save_model(file, model, info); });
  };

  // An activation whose spec names nothing registered could not be loaded.
  class Unregistered final : public ElementwiseActivation {
   public:
    std::string type_name() const override { return "Unregistered"; }
    std::string spec() const override { return "model_file_unregistered"; }
    float value(float x) const override { return x; }
    float gradient(float, float) const override { return 1.0f; }
  };
  Sequential a;
  a.add(std::make_unique<Dense>(2, 2)).add(std::make_unique<Unregistered>());
  a.compile("mse", "sgd");
  a.build(2);
  const std::string unregistered = save_error(a);
  EXPECT_TRUE(contains(unregistered, "layer 1 (Unregistered): make_layer('Activation', "
                                     "'{\"activation\":\"model_file_unregistered\"}') cannot rebuild it"))
      << unregistered;
  EXPECT_TRUE(contains(unregistered, "unknown activation 'model_file_unregistered'")) << unregistered;

  // A spec that rebuilds a different function (lossy number formatting, say) would load another model.
  class Lossy final : public ElementwiseActivation {
   public:
    std::string type_name() const override { return "Lossy"; }
    std::string spec() const override { return "leaky_relu(0.123457)"; }
    float value(float x) const override { return x >= 0.0f ? x : 0.123456789f * x; }
    float gradient(float x, float) const override { return x > 0.0f ? 1.0f : 0.123456789f; }
  };
  Sequential b;
  b.add(std::make_unique<Dense>(2, 2)).add(std::make_unique<Lossy>());
  b.compile("mse", "sgd");
  b.build(2);
  EXPECT_TRUE(contains(save_error(b), "computes different values than the layer"));

  // Diverged weights.
  Sequential c = binary_model();
  dynamic_cast<Dense&>(c.layer(0)).parameters()[0].value[1] = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(contains(save_error(c), "layer 0 (dense) has non-finite weights"));

  // Info that does not fit the model.
  Sequential d = binary_model();
  ModelInfo info;
  info.class_names = {"a", "b", "c"};
  EXPECT_TRUE(contains(save_error(d, info), "3 class names for a model with 1 output unit (at most 2)"));
  info = ModelInfo{};
  info.standardizer = Standardizer();
  EXPECT_TRUE(contains(save_error(d, info), "the standardizer is not fitted"));
  info.standardizer = Standardizer(Vector{0.0f, 0.0f}, Vector{1.0f, 1.0f});
  EXPECT_TRUE(contains(save_error(d, info), "the standardizer has 2 features, the model 3 inputs"));
  info = ModelInfo{};
  info.metadata = {{"huge", std::string((1u << 20) + 1, 'x')}};
  EXPECT_TRUE(contains(save_error(d, info), "allows at most 1 MiB per string"));

  EXPECT_TRUE(listing(dir_).empty());
}

/// y = factor * x, without weights; its config() forgets the factor unless `describes_factor`.
class ModelFileTimes final : public Layer {
 public:
  ModelFileTimes(std::string kind, float factor, bool describes_factor)
      : kind_(std::move(kind)), factor_(factor), describes_factor_(describes_factor) {}
  std::string type_name() const override { return "Times"; }
  std::string kind() const override { return kind_; }
  Config config() const override { return describes_factor_ ? Config{{"factor", factor_}} : Config::object(); }
  void build(std::size_t input_units, Rng&) override { units_ = input_units; }
  bool built() const override { return units_ != 0; }
  std::size_t input_units() const override { return units_; }
  std::size_t output_units() const override { return units_; }
  void reserve(std::size_t) override {}
  ConstMatrixView forward(ConstMatrixView x) override {
    output_.assign(x.data, x.data + x.size());
    for (float& v : output_) v *= factor_;
    return {output_.data(), x.rows, x.cols};
  }
  ConstMatrixView backward(ConstMatrixView dy, bool) override {
    gradient_.assign(dy.data, dy.data + dy.size());
    for (float& v : gradient_) v *= factor_;
    return {gradient_.data(), dy.rows, dy.cols};
  }

 private:
  std::string kind_;
  float factor_;
  bool describes_factor_;
  std::size_t units_ = 0;
  std::vector<float> output_, gradient_;
};

TEST_F(ModelFile, UserLayersSaveOnlyWhenTheirKindAndConfigRebuildThem) {
  const auto model_with = [](float factor, const std::string& kind, bool describes_factor) {
    Sequential model;
    model.add(std::make_unique<Dense>(2, 3)).add(std::make_unique<ModelFileTimes>(kind, factor, describes_factor));
    model.compile("mse", "sgd");
    model.build(3);
    return model;
  };
  const std::string file = path("times.xdm").string();

  // Not registered: the file could not be loaded.
  Sequential unregistered = model_with(2.0f, "ModelFileUnregisteredTimes", true);
  const std::string refused =
      error_of<InvalidArgument>([&] { save_model(file, unregistered, ModelInfo{}); });
  EXPECT_TRUE(contains(refused, "save_model: layer 1 (Times): make_layer('ModelFileUnregisteredTimes', "
                                "'{\"factor\":2.0}') cannot rebuild it, so the file could not be loaded "
                                "(register_layer() its kind first): unknown layer 'ModelFileUnregisteredTimes'"))
      << refused;

  // Registered: saves and loads, bit for bit.
  register_layer("ModelFileTimes", [](const Config& config) {
    ConfigReader in(config, "ModelFileTimes");
    const bool described = in.has("factor");
    const float factor = in.real("factor", 1.0f);
    in.finish();
    return std::make_unique<ModelFileTimes>("ModelFileTimes", factor, described);
  });
  Sequential registered = model_with(2.0f, "ModelFileTimes", true);
  save_model(file, registered, ModelInfo{});
  SavedModel loaded = load_model(file);
  EXPECT_EQ(loaded.model.layer(1).kind(), "ModelFileTimes");
  EXPECT_EQ(loaded.model.layer(1).config(), registered.layer(1).config());
  const Matrix x = random_matrix(4, 3, 12);
  EXPECT_TRUE(bit_identical(registered.predict(x), loaded.model.predict(x)));

  // A config that forgets a setting rebuilds another layer: refused on the probe batch.
  Sequential forgetful = model_with(2.0f, "ModelFileTimes", false);
  EXPECT_TRUE(contains(error_of<InvalidArgument>([&] { save_model(file, forgetful, ModelInfo{}); }),
                       "layer 1 (Times): make_layer('ModelFileTimes', '{}') computes different values than the layer"));
  EXPECT_EQ(listing(dir_), std::vector<std::string>{"times.xdm"});
}

}  // namespace
}  // namespace xdense

namespace xdense {
namespace {

// Saving checks that each layer rebuilds from its kind and config; it must leave the live model as
// it was: no view into freed memory (the Layer contract lets a layer keep a view of its last input,
// which the sanitizer build would catch), the same outputs and the same training afterwards.
TEST_F(ModelFile, SavingLeavesTheLiveModelUsable) {
  Sequential model = classifier();
  Sequential twin = classifier();  // the same seed and data: the same model, never saved
  const Matrix x = random_matrix(6, 4, 21);
  const Matrix before = model.predict(x);
  save_model(path("a.xdm").string(), model, ModelInfo{});
  for (std::size_t i = 0; i < model.layer_count(); ++i) {
    if (const Activation* activation = model.layer(i).as_activation()) {
      const ConstMatrixView last = activation->last_input();
      float sum = 0.0f;
      for (std::size_t k = 0; k < last.size(); ++k) sum += last.data[k];  // readable, not freed
      EXPECT_TRUE(std::isfinite(sum));
    }
  }
  const Matrix after = model.predict(x);
  ASSERT_EQ(before.size(), after.size());
  EXPECT_EQ(std::memcmp(before.data(), after.data(), before.size() * sizeof(float)), 0);
  Matrix y = Matrix::from_shape({6, 1});
  for (std::size_t r = 0; r < 6; ++r) y(r, 0) = static_cast<float>(r % 3);
  FitOptions options;
  options.epochs = 2;
  options.batch_size = 4;
  options.shuffle = false;
  const History saved_history = model.fit(x, y, options);
  const History twin_history = twin.fit(x, y, options);
  EXPECT_EQ(saved_history.values("loss"), twin_history.values("loss"));
  EXPECT_EQ(saved_history.values("accuracy"), twin_history.values("accuracy"));
}

}  // namespace
}  // namespace xdense
