// The initializers xdense ships, with Keras 3's names, defaults and formulas
// (keras/src/initializers/{constant,random}_initializers.py) and PyTorch's nn.Linear default.
// Every value is drawn in double from Rng and rounded to float once; the draws of glorot_*, he_*
// and the constants are those xdense has always made, so a seed gives the weights it always gave.

#include "builtin_initializers.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "xdense/error.hpp"
#include "xdense/random.hpp"

namespace xdense::detail {
namespace {

// Standard deviation of a unit normal truncated to [-2, 2] (Keras's VarianceScaling constant).
constexpr double truncated_unit_stddev = 0.87962566103423978;

// ---------------------------------------------------------------- constants

class ConstantInitializer final : public Initializer {
 public:
  ConstantInitializer(std::string name, float value, bool has_value)
      : name_(std::move(name)), value_(value), has_value_(has_value) {}
  std::string name() const override { return name_; }
  Config config() const override { return has_value_ ? Config{{"value", value_}} : Config::object(); }
  void fill(float* values, std::size_t count, std::size_t, std::size_t, Rng&) const override {
    std::fill(values, values + count, value_);  // draws nothing: the generator stays where it was
  }

 private:
  std::string name_;
  float value_;
  bool has_value_;  // constant(value) says it; zeros and ones do not
};

// ---------------------------------------------------------------- random

// "seed": null (absent) draws from the model's generator; an integer gives the initializer a
// generator of its own, restarted on every fill (a seeded Keras initializer fills the same values
// each time it is called).
std::optional<std::uint64_t> read_seed(ConfigReader& in, const Config& config) {
  in.ignore("seed");
  const auto seed = config.is_object() ? config.find("seed") : config.end();
  if (!config.is_object() || seed == config.end() || seed->is_null()) return std::nullopt;
  if (!seed->is_number_integer() || seed->get<long long>() < 0) in.fail("seed", "expected a non-negative integer or null, received " + seed->dump());
  return seed->get<std::uint64_t>();
}

class RandomInitializer : public Initializer {
 public:
  explicit RandomInitializer(std::optional<std::uint64_t> seed) : seed_(seed) {}
  Config config() const final {
    Config config = settings();
    config["seed"] = seed_ ? Config(*seed_) : Config(nullptr);
    return config;
  }
  void fill(float* values, std::size_t count, std::size_t fan_in, std::size_t fan_out, Rng& rng) const final {
    if (seed_) {
      Rng own(*seed_);
      draw(values, count, fan_in, fan_out, own);
    } else {
      draw(values, count, fan_in, fan_out, rng);
    }
  }

 protected:
  /// The settings besides "seed".
  virtual Config settings() const { return Config::object(); }
  virtual void draw(float* values, std::size_t count, std::size_t fan_in, std::size_t fan_out, Rng& rng) const = 0;

 private:
  std::optional<std::uint64_t> seed_;
};

void fill_uniform(float* values, std::size_t count, double low, double high, Rng& rng) {
  for (std::size_t i = 0; i < count; ++i) values[i] = static_cast<float>(rng.uniform(low, high));
}

void fill_normal(float* values, std::size_t count, double mean, double stddev, Rng& rng) {
  for (std::size_t i = 0; i < count; ++i) values[i] = static_cast<float>(mean + stddev * rng.normal());
}

// N(mean, stddev) redrawn beyond two standard deviations.
void fill_truncated_normal(float* values, std::size_t count, double mean, double stddev, Rng& rng) {
  for (std::size_t i = 0; i < count; ++i) values[i] = static_cast<float>(mean + rng.truncated_normal(stddev));
}

double read_stddev(ConfigReader& in) {
  const double stddev = in.number("stddev", 0.05);
  if (stddev < 0.0) in.fail("stddev", "expected a non-negative number, received " + std::to_string(stddev));
  return stddev;
}

// random_normal, truncated_normal: {"mean": 0.0, "stddev": 0.05}
class NormalInitializer final : public RandomInitializer {
 public:
  NormalInitializer(bool truncated, double mean, double stddev, std::optional<std::uint64_t> seed)
      : RandomInitializer(seed), truncated_(truncated), mean_(mean), stddev_(stddev) {}
  std::string name() const override { return truncated_ ? "truncated_normal" : "random_normal"; }

 protected:
  Config settings() const override { return {{"mean", mean_}, {"stddev", stddev_}}; }
  void draw(float* values, std::size_t count, std::size_t, std::size_t, Rng& rng) const override {
    if (truncated_) {
      fill_truncated_normal(values, count, mean_, stddev_, rng);
    } else {
      fill_normal(values, count, mean_, stddev_, rng);
    }
  }

 private:
  bool truncated_;
  double mean_;
  double stddev_;
};

// random_uniform: U(minval, maxval), {"minval": -0.05, "maxval": 0.05}
class UniformInitializer final : public RandomInitializer {
 public:
  UniformInitializer(double minval, double maxval, std::optional<std::uint64_t> seed)
      : RandomInitializer(seed), minval_(minval), maxval_(maxval) {}
  std::string name() const override { return "random_uniform"; }

 protected:
  Config settings() const override { return {{"minval", minval_}, {"maxval", maxval_}}; }
  void draw(float* values, std::size_t count, std::size_t, std::size_t, Rng& rng) const override {
    fill_uniform(values, count, minval_, maxval_, rng);
  }

 private:
  double minval_;
  double maxval_;
};

// ---------------------------------------------------------------- variance scaling

enum class FanMode { fan_in, fan_out, fan_avg };
enum class Distribution { truncated_normal, untruncated_normal, uniform };

const char* mode_name(FanMode mode) {
  return mode == FanMode::fan_in ? "fan_in" : mode == FanMode::fan_out ? "fan_out" : "fan_avg";
}

const char* distribution_name(Distribution distribution) {
  return distribution == Distribution::truncated_normal     ? "truncated_normal"
         : distribution == Distribution::untruncated_normal ? "untruncated_normal"
                                                            : "uniform";
}

// variance_scaling: variance scale / n with n = max(1, fan) for the chosen fan, drawn from
//   truncated_normal    N(0, sqrt(scale / n) / 0.8796...) cut at two of its standard deviations
//   untruncated_normal  N(0, sqrt(scale / n))
//   uniform             U(-sqrt(3 scale / n), sqrt(3 scale / n))
// glorot_* are scale 1, fan_avg; he_* scale 2, fan_in; lecun_* scale 1, fan_in: registered under
// their own names with only a seed (as Keras's GlorotUniform, ...).
class VarianceScaling final : public RandomInitializer {
 public:
  VarianceScaling(std::string name, bool fixed, double scale, FanMode mode, Distribution distribution,
                  std::optional<std::uint64_t> seed)
      : RandomInitializer(seed), name_(std::move(name)), fixed_(fixed), scale_(scale), mode_(mode),
        distribution_(distribution) {}
  std::string name() const override { return name_; }

 protected:
  Config settings() const override {
    if (fixed_) return Config::object();
    return {{"scale", scale_}, {"mode", mode_name(mode_)}, {"distribution", distribution_name(distribution_)}};
  }
  void draw(float* values, std::size_t count, std::size_t fan_in, std::size_t fan_out, Rng& rng) const override {
    const double fan = mode_ == FanMode::fan_in    ? double(fan_in)
                       : mode_ == FanMode::fan_out ? double(fan_out)
                                                   : double(fan_in + fan_out) / 2.0;
    const double n = std::max(1.0, fan);
    // Written so that 3 scale / n rounds as 6 / (fan_in + fan_out) did before for glorot_uniform.
    if (distribution_ == Distribution::uniform) {
      const double limit = std::sqrt(3.0 * scale_ / n);
      fill_uniform(values, count, -limit, limit, rng);
    } else if (distribution_ == Distribution::truncated_normal) {
      fill_truncated_normal(values, count, 0.0, std::sqrt(scale_ / n) / truncated_unit_stddev, rng);
    } else {
      fill_normal(values, count, 0.0, std::sqrt(scale_ / n), rng);
    }
  }

 private:
  std::string name_;
  bool fixed_;
  double scale_;
  FanMode mode_;
  Distribution distribution_;
};

std::unique_ptr<Initializer> variance_scaling_from_config(const Config& config) {
  ConfigReader in(config, "variance_scaling");
  const double scale = in.number("scale", 1.0);
  if (scale <= 0.0) in.fail("scale", "expected a positive number, received " + std::to_string(scale));
  const std::string mode_text = in.text("mode", "fan_in");
  FanMode mode = FanMode::fan_in;
  if (mode_text == "fan_out") {
    mode = FanMode::fan_out;
  } else if (mode_text == "fan_avg") {
    mode = FanMode::fan_avg;
  } else if (mode_text != "fan_in") {
    in.fail("mode", "expected fan_in, fan_out or fan_avg, received " + quote_value(mode_text));
  }
  std::string distribution_text = in.text("distribution", "truncated_normal");
  std::transform(distribution_text.begin(), distribution_text.end(), distribution_text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  Distribution distribution = Distribution::truncated_normal;
  if (distribution_text == "uniform") {
    distribution = Distribution::uniform;
  } else if (distribution_text == "untruncated_normal") {
    distribution = Distribution::untruncated_normal;
  } else if (distribution_text != "truncated_normal" && distribution_text != "normal") {  // Keras: normal = truncated
    in.fail("distribution", "expected truncated_normal, untruncated_normal or uniform, received " +
                                quote_value(distribution_text));
  }
  const auto seed = read_seed(in, config);
  in.finish();
  return std::make_unique<VarianceScaling>("variance_scaling", false, scale, mode, distribution, seed);
}

InitializerFactory fixed_variance_scaling(const std::string& name, double scale, FanMode mode,
                                          Distribution distribution) {
  return [=](const Config& config) -> std::unique_ptr<Initializer> {
    ConfigReader in(config, name);
    const auto seed = read_seed(in, config);
    in.finish();
    return std::make_unique<VarianceScaling>(name, true, scale, mode, distribution, seed);
  };
}

// ---------------------------------------------------------------- orthogonal

// Q of the QR decomposition of a (m, n) row-major matrix `a` (m >= n), by Householder reflections in
// double, with each column multiplied by the sign of R's diagonal entry (so Q is the unique factor
// with R's diagonal positive, whichever QR routine computes it). Returns Q (m, n), row-major.
std::vector<double> signed_q(std::vector<double> a, std::size_t m, std::size_t n) {
  std::vector<std::vector<double>> reflections;  // v_k (length m - k), unit norm, or empty for H = I
  std::vector<double> diagonal(n);
  for (std::size_t k = 0; k < n; ++k) {
    std::vector<double> v(m - k);
    double norm2 = 0.0;
    for (std::size_t i = k; i < m; ++i) {
      v[i - k] = a[i * n + k];
      norm2 += v[i - k] * v[i - k];
    }
    const double alpha = (v[0] >= 0.0 ? -1.0 : 1.0) * std::sqrt(norm2);  // R[k][k]
    v[0] -= alpha;
    double v_norm2 = 0.0;
    for (double x : v) v_norm2 += x * x;
    diagonal[k] = norm2 == 0.0 ? 0.0 : alpha;
    if (v_norm2 == 0.0) {
      reflections.emplace_back();
      continue;
    }
    const double inv = 1.0 / std::sqrt(v_norm2);
    for (double& x : v) x *= inv;
    // A[k:, k:] -= 2 v (v^T A[k:, k:])
    for (std::size_t j = k; j < n; ++j) {
      double dot = 0.0;
      for (std::size_t i = k; i < m; ++i) dot += v[i - k] * a[i * n + j];
      for (std::size_t i = k; i < m; ++i) a[i * n + j] -= 2.0 * dot * v[i - k];
    }
    reflections.push_back(std::move(v));
  }
  // Q = H_0 H_1 ... H_{n-1} I[:, :n], applied from the last reflection to the first.
  std::vector<double> q(m * n, 0.0);
  for (std::size_t j = 0; j < n; ++j) q[j * n + j] = 1.0;
  for (std::size_t k = n; k-- > 0;) {
    const std::vector<double>& v = reflections[k];
    if (v.empty()) continue;
    for (std::size_t j = 0; j < n; ++j) {
      double dot = 0.0;
      for (std::size_t i = k; i < m; ++i) dot += v[i - k] * q[i * n + j];
      for (std::size_t i = k; i < m; ++i) q[i * n + j] -= 2.0 * dot * v[i - k];
    }
  }
  // Keras: q *= sign(diag(r)) (sign(0) = 0, which a normal draw meets with probability 0).
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      const double d = diagonal[j];
      q[i * n + j] *= d > 0.0 ? 1.0 : d < 0.0 ? -1.0 : 0.0;
    }
  }
  return q;
}

// orthogonal(gain=1), Keras's algorithm: for a (rows, cols) weight, draw a (max, min) standard normal
// matrix, take Q of its QR decomposition with the sign correction, transpose it if rows < cols, and
// scale by gain: rows orthonormal when rows <= cols, columns otherwise (W^T W = gain^2 I).
class Orthogonal final : public RandomInitializer {
 public:
  Orthogonal(double gain, std::optional<std::uint64_t> seed) : RandomInitializer(seed), gain_(gain) {}
  std::string name() const override { return "orthogonal"; }

 protected:
  Config settings() const override { return {{"gain", gain_}}; }
  void draw(float* values, std::size_t count, std::size_t fan_in, std::size_t fan_out, Rng& rng) const override {
    if (count != fan_in * fan_out || count == 0) {
      throw InvalidArgument("orthogonal: expected a two-dimensional weight of fan_in x fan_out = " +
                            std::to_string(fan_in) + " x " + std::to_string(fan_out) + " values, received " +
                            std::to_string(count) + " values (a bias cannot be orthogonal)");
    }
    const std::size_t rows = fan_in;
    const std::size_t cols = fan_out;
    const std::size_t m = std::max(rows, cols);
    const std::size_t n = std::min(rows, cols);
    std::vector<double> a(m * n);
    for (double& x : a) x = rng.normal();
    const std::vector<double> q = signed_q(std::move(a), m, n);
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < cols; ++c) {
        const double value = rows >= cols ? q[r * n + c] : q[c * n + r];  // transposed when rows < cols
        values[r * cols + c] = static_cast<float>(gain_ * value);
      }
    }
  }

 private:
  double gain_;
};

// ---------------------------------------------------------------- PyTorch

// torch.nn.Linear's reset_parameters(): weight kaiming_uniform_(a=sqrt(5)), i.e. bound
// gain * sqrt(3 / fan_in) with gain = sqrt(2 / (1 + 5)), = 1 / sqrt(fan_in); bias U(+-1 / sqrt(fan_in))
// with the weight's fan_in. Both are U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
class PyTorchInitializer final : public RandomInitializer {
 public:
  explicit PyTorchInitializer(std::optional<std::uint64_t> seed) : RandomInitializer(seed) {}
  std::string name() const override { return "pytorch"; }

 protected:
  void draw(float* values, std::size_t count, std::size_t fan_in, std::size_t, Rng& rng) const override {
    const double bound = 1.0 / std::sqrt(double(std::max<std::size_t>(fan_in, 1)));
    fill_uniform(values, count, -bound, bound, rng);
  }
};

}  // namespace

void add_builtin_initializers(Registry<InitializerFactory>& registry) {
  const auto constant = [](const std::string& name, float value) -> InitializerFactory {
    return [=](const Config& config) -> std::unique_ptr<Initializer> {
      ConfigReader in(config, name);
      in.finish();
      return std::make_unique<ConstantInitializer>(name, value, false);
    };
  };
  registry.add("zeros", constant("zeros", 0.0f), {"Zeros", "zero"});
  registry.add("ones", constant("ones", 1.0f), {"Ones", "one"});
  registry.add(
      "constant",
      [](const Config& config) -> std::unique_ptr<Initializer> {
        ConfigReader in(config, "constant");
        const float value = in.real("value", 0.0f);
        in.finish();
        return std::make_unique<ConstantInitializer>("constant", value, true);
      },
      {"Constant"});
  const auto normal = [](bool truncated) -> InitializerFactory {
    return [=](const Config& config) -> std::unique_ptr<Initializer> {
      ConfigReader in(config, truncated ? "truncated_normal" : "random_normal");
      const double mean = in.number("mean", 0.0);
      const double stddev = read_stddev(in);
      const auto seed = read_seed(in, config);
      in.finish();
      return std::make_unique<NormalInitializer>(truncated, mean, stddev, seed);
    };
  };
  registry.add("random_normal", normal(false), {"RandomNormal", "normal"});
  registry.add("truncated_normal", normal(true), {"TruncatedNormal"});
  registry.add(
      "random_uniform",
      [](const Config& config) -> std::unique_ptr<Initializer> {
        ConfigReader in(config, "random_uniform");
        const double minval = in.number("minval", -0.05);
        const double maxval = in.number("maxval", 0.05);
        if (maxval < minval) {
          in.fail("maxval", "expected maxval >= minval, received minval=" + std::to_string(minval) +
                                ", maxval=" + std::to_string(maxval));
        }
        const auto seed = read_seed(in, config);
        in.finish();
        return std::make_unique<UniformInitializer>(minval, maxval, seed);
      },
      {"RandomUniform", "uniform"});
  registry.add("variance_scaling", variance_scaling_from_config, {"VarianceScaling"});
  using D = Distribution;
  registry.add("glorot_uniform", fixed_variance_scaling("glorot_uniform", 1.0, FanMode::fan_avg, D::uniform),
               {"GlorotUniform"});
  registry.add("glorot_normal", fixed_variance_scaling("glorot_normal", 1.0, FanMode::fan_avg, D::truncated_normal),
               {"GlorotNormal"});
  registry.add("he_uniform", fixed_variance_scaling("he_uniform", 2.0, FanMode::fan_in, D::uniform), {"HeUniform"});
  registry.add("he_normal", fixed_variance_scaling("he_normal", 2.0, FanMode::fan_in, D::truncated_normal),
               {"HeNormal"});
  registry.add("lecun_uniform", fixed_variance_scaling("lecun_uniform", 1.0, FanMode::fan_in, D::uniform),
               {"LecunUniform"});
  registry.add("lecun_normal", fixed_variance_scaling("lecun_normal", 1.0, FanMode::fan_in, D::truncated_normal),
               {"LecunNormal"});
  registry.add(
      "orthogonal",
      [](const Config& config) -> std::unique_ptr<Initializer> {
        ConfigReader in(config, "orthogonal");
        const double gain = in.number("gain", 1.0);
        const auto seed = read_seed(in, config);
        in.finish();
        return std::make_unique<Orthogonal>(gain, seed);
      },
      {"Orthogonal", "OrthogonalInitializer"});
  registry.add(
      "pytorch",
      [](const Config& config) -> std::unique_ptr<Initializer> {
        ConfigReader in(config, "pytorch");
        const auto seed = read_seed(in, config);
        in.finish();
        return std::make_unique<PyTorchInitializer>(seed);
      },
      {});
}

}  // namespace xdense::detail
