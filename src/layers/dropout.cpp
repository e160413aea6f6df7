#include "xdense/layers/dropout.hpp"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "../cpu_dispatch.hpp"
#include "keras_layer_keys.hpp"
#include "xdense/error.hpp"
#include "xdense/onnx.hpp"
#include "xdense/random.hpp"

namespace xdense {
namespace {

// splitmix64's output function (Steele, Lea and Flood 2014): a 64-bit bijection with full
// avalanche, which turns (seed, draw number) into the key of one mask.
std::uint64_t splitmix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A 32-bit bijection with low bias (Wellons's "lowbias32"); 32-bit multiplies and shifts only, so
// a loop of them runs eight lanes wide with AVX2.
XDENSE_KERNEL_INLINE std::uint32_t mix32(std::uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

// The mask of one draw and its application: element i is kept when
// mix32(mix32(i ^ key_low) + key_high) >= threshold, i.e. with probability 1 - threshold / 2^32.
// Two rounds with the two halves of the draw's key: within a draw the hash is a bijection of i;
// across draws, inputs the first round maps alike get different second-round keys, so no draw's
// mask is a shifted copy of another's. (Elements past 2^32 in one batch would repeat the pattern.)
XDENSE_VECTOR_CLONES void apply_new_mask(const float* x, float* __restrict y, float* __restrict mask, std::size_t n,
                                         std::uint64_t key, std::uint32_t threshold, float scale) {
  const auto key_low = static_cast<std::uint32_t>(key);
  const auto key_high = static_cast<std::uint32_t>(key >> 32);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t h = mix32(mix32(static_cast<std::uint32_t>(i) ^ key_low) + key_high);
    const float m = h >= threshold ? scale : 0.0f;
    mask[i] = m;
    y[i] = x[i] * m;
  }
}

// dx = dy * m
XDENSE_VECTOR_CLONES void apply_mask(const float* dy, const float* mask, float* __restrict dx, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dx[i] = dy[i] * mask[i];
}

void check_rate(double rate) {
  if (!(rate >= 0.0 && rate < 1.0)) {
    throw InvalidArgument("Dropout: rate must be in [0, 1), received rate=" + std::to_string(rate));
  }
}

// A JSON integer >= 0 (parsed JSON holds one as unsigned, a Config built in C++ may hold a signed one).
bool non_negative_integer(const Config& value) {
  return value.is_number_unsigned() || (value.is_number_integer() && value.get<std::int64_t>() >= 0);
}

std::uint64_t unsigned_field(const Config& state, const char* key) {
  if (!state.is_object() || !state.contains(key) || !non_negative_integer(state.at(key))) {
    throw InvalidArgument(std::string("Dropout: expected a training state {\"seed\": s, \"draws\": n} of "
                                      "non-negative integers, received ") +
                          quote_value(state.dump()));
  }
  return state.at(key).get<std::uint64_t>();
}

}  // namespace

Dropout::Dropout(double rate, std::optional<std::uint64_t> seed) : rate_(rate), seed_option_(seed) {
  check_rate(rate);
  // P(drop) = threshold / 2^32: the nearest such fraction to rate (at most 2^32 - 1).
  const double threshold = std::round(rate * 4294967296.0);
  threshold_ = threshold >= 4294967295.0 ? 0xffffffffU : static_cast<std::uint32_t>(threshold);
  scale_ = static_cast<float>(1.0 / (1.0 - rate));
}

Config Dropout::config() const {
  return {{"rate", rate_},
          {"seed", seed_option_ ? Config(*seed_option_) : Config(nullptr)},
          {"noise_shape", nullptr}};
}

void Dropout::build(std::size_t input_units, Rng& rng) {
  if (input_units == 0) throw InvalidArgument("Dropout: expected a positive number of inputs, received 0");
  units_ = input_units;
  seed_ = seed_option_ ? *seed_option_ : rng.next();
  draws_ = 0;
  mask_.reserve(0, units_);
  output_.reserve(0, units_);
  input_gradient_.reserve(0, units_);
  built_ = true;
}

void Dropout::reserve(std::size_t rows) {
  mask_.reserve(rows, units_);
  output_.reserve(rows, units_);
  input_gradient_.reserve(rows, units_);
}

ConstMatrixView Dropout::forward(ConstMatrixView x) {
  if (!built_) throw StateError("Dropout: forward() called before build()");
  check_columns(x, units_);
  masked_ = training() && threshold_ > 0;
  last_rows_ = x.rows;
  if (!masked_) return x;  // the identity: the input itself, no copy
  const MatrixView y = output_.view(x.rows);
  const MatrixView mask = mask_.view(x.rows);
  // Process 0 (and a single process) draws the stream of seed_; process k > 0 one of its own.
  const std::uint64_t stream = replica_ == 0 ? splitmix64(seed_) : splitmix64(seed_ ^ splitmix64(replica_));
  apply_new_mask(x.data, y.data, mask.data, x.size(), splitmix64(stream ^ draws_), threshold_, scale_);
  ++draws_;
  return y;
}

ConstMatrixView Dropout::backward(ConstMatrixView dy, bool need_input_gradient) {
  if (!built_) throw StateError("Dropout::backward: called before build()");
  if (dy.cols != units_ || dy.rows != last_rows_) {
    throw ShapeError("Dropout::backward: expected dL/dy of shape " + shape_string(last_rows_, units_) +
                     ", received " + shape_string(dy.rows, dy.cols));
  }
  if (!need_input_gradient) return {};
  if (!masked_) return dy;
  const MatrixView dx = input_gradient_.view(dy.rows);
  apply_mask(dy.data, mask_.view(dy.rows).data, dx.data, dy.size());
  return dx;
}

std::optional<LayerShape> Dropout::shape_for(std::size_t input_units) const { return LayerShape{input_units, {}}; }

std::string Dropout::to_onnx(OnnxGraph& /*graph*/, const std::string& input, const std::string& /*name*/) const {
  return input;  // inverted dropout: inference passes x through unchanged
}

Config Dropout::training_state() const {
  if (!built_) return nullptr;
  return {{"seed", seed_}, {"draws", draws_}};
}

void Dropout::restore_training_state(const Config& state) {
  if (!built_) throw StateError("Dropout::restore_training_state: called before build()");
  const std::uint64_t seed = unsigned_field(state, "seed");
  const std::uint64_t draws = unsigned_field(state, "draws");
  if (state.size() != 2) {
    throw InvalidArgument("Dropout: expected a training state of the keys seed and draws only, received " +
                          quote_value(state.dump()));
  }
  seed_ = seed;
  draws_ = draws;
}

namespace {

std::unique_ptr<Layer> dropout_from_config(const Config& config) {
  ConfigReader in(config, "Dropout");
  if (!in.has("rate")) in.fail("rate", "missing (expected a number in [0, 1))");
  const double rate = in.number("rate", 0.0);
  if (!(rate >= 0.0 && rate < 1.0)) in.fail("rate", "expected a number in [0, 1), received " + config.at("rate").dump());
  std::optional<std::uint64_t> seed;
  in.ignore("seed");
  if (config.contains("seed") && !config.at("seed").is_null()) {
    const Config& value = config.at("seed");
    if (!non_negative_integer(value)) {
      in.fail("seed", "expected null or a non-negative integer, received " + value.dump());
    }
    seed = value.get<std::uint64_t>();
  }
  detail::read_null_keys(in, config, {"noise_shape"}, "a dropout mask per element only");
  detail::read_keras_layer_keys(in, config);
  in.finish();
  return std::make_unique<Dropout>(rate, seed);
}

const bool registered = (register_layer("Dropout", dropout_from_config), true);

}  // namespace

}  // namespace xdense
