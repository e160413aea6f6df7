#include "xdense/regularizer.hpp"

#include <cmath>
#include <ostream>

#include <nlohmann/json.hpp>

#include "cpu_dispatch.hpp"
#include "keras_identifier.hpp"
#include "registry.hpp"
#include "xdense/error.hpp"

namespace xdense {
namespace {

// sum |w| and sum w^2 in double, over eight interleaved partial sums (a fixed order, so the same
// weights give the same penalty on every run, and the loop vectorises).
XDENSE_VECTOR_CLONES void absolute_and_square_sums(const float* __restrict w, std::size_t n, double& absolute,
                                                   double& square) {
  constexpr std::size_t lanes = 8;
  double a[lanes] = {};
  double s[lanes] = {};
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    for (std::size_t k = 0; k < lanes; ++k) {
      const double x = w[i + k];
      a[k] += std::abs(x);
      s[k] += x * x;
    }
  }
  for (std::size_t k = 0; i < n; ++i, ++k) {
    const double x = w[i];
    a[k] += std::abs(x);
    s[k] += x * x;
  }
  absolute = 0.0;
  square = 0.0;
  for (std::size_t k = 0; k < lanes; ++k) {
    absolute += a[k];
    square += s[k];
  }
}

// g += l1 * sign(w) + (2 l2) * w, sign(0) = 0. The float factors are Keras's: the gradient of
// l2 * sum(square(w)) in float32 is l2 * (2 w), which is (2 l2) * w exactly.
XDENSE_VECTOR_CLONES void add_penalty_gradient(const float* __restrict w, float* __restrict g, std::size_t n, float l1,
                                               float twice_l2) {
  if (l1 == 0.0f) {
    for (std::size_t i = 0; i < n; ++i) g[i] += twice_l2 * w[i];
  } else if (twice_l2 == 0.0f) {
    for (std::size_t i = 0; i < n; ++i) g[i] += l1 * float((w[i] > 0.0f) - (w[i] < 0.0f));
  } else {
    for (std::size_t i = 0; i < n; ++i) g[i] += l1 * float((w[i] > 0.0f) - (w[i] < 0.0f)) + twice_l2 * w[i];
  }
}

// l1 * sum |w| + l2 * sum w^2: Keras's L1 ("l1" only), L2 ("l2" only) and L1L2 (both).
class WeightPenalty final : public Regularizer {
 public:
  WeightPenalty(std::string name, double l1, double l2) : name_(std::move(name)), l1_(l1), l2_(l2) {}
  std::string name() const override { return name_; }
  Config config() const override {
    if (name_ == "l1") return {{"l1", l1_}};
    if (name_ == "l2") return {{"l2", l2_}};
    return {{"l1", l1_}, {"l2", l2_}};
  }
  double penalty(const float* w, std::size_t n) const override {
    double absolute = 0.0;
    double square = 0.0;
    absolute_and_square_sums(w, n, absolute, square);
    // The factors as float, as Keras and the gradient use them.
    return double(float(l1_)) * absolute + double(float(l2_)) * square;
  }
  void add_gradient(const float* w, float* gradient, std::size_t n) const override {
    add_penalty_gradient(w, gradient, n, float(l1_), 2.0f * float(l2_));
  }

 private:
  std::string name_;
  double l1_;
  double l2_;
};

double checked_factor(const std::string& who, const char* key, double value) {
  if (!std::isfinite(value) || value < 0.0 || std::abs(value) > 3.4e38) {
    throw InvalidArgument(who + ": expected " + key + " to be a non-negative finite number, received " + key + "=" +
                          std::to_string(value));
  }
  return value;
}

// A factor of the config; null (Keras's None) is the default, as in Keras.
double read_factor(ConfigReader& in, const Config& config, const char* key, double fallback) {
  if (config.is_object() && config.contains(key) && config.at(key).is_null()) {
    in.ignore(key);
    return fallback;
  }
  const double value = in.number(key, fallback);
  if (value < 0.0 || std::abs(value) > 3.4e38) in.fail(key, "expected a non-negative number, received " + std::to_string(value));
  return value;
}

RegularizerFactory penalty_factory(const std::string& name, bool takes_l1, bool takes_l2, double default_l1,
                                   double default_l2) {
  return [=](const Config& config) -> std::unique_ptr<Regularizer> {
    ConfigReader in(config, name);
    const double l1 = takes_l1 ? read_factor(in, config, "l1", default_l1) : 0.0;
    const double l2 = takes_l2 ? read_factor(in, config, "l2", default_l2) : 0.0;
    in.finish();
    return std::make_unique<WeightPenalty>(name, l1, l2);
  };
}

detail::Registry<RegularizerFactory>& regularizers() {
  static detail::Registry<RegularizerFactory>& registry = *[] {
    auto* made = new detail::Registry<RegularizerFactory>("regularizer");  // lives as long as the program
    // Keras 3's defaults: L1(l1=0.01), L2(l2=0.01), L1L2(l1=0.0, l2=0.0).
    made->add("l1", penalty_factory("l1", true, false, 0.01, 0.0), {"L1"});
    made->add("l2", penalty_factory("l2", false, true, 0.0, 0.01), {"L2"});
    made->add("l1_l2", penalty_factory("l1_l2", true, true, 0.0, 0.0), {"L1L2"});
    return made;
  }();
  return registry;
}

}  // namespace

Config Regularizer::config() const { return Config::object(); }

void register_regularizer(const std::string& name, RegularizerFactory factory, const std::vector<std::string>& aliases) {
  regularizers().add(name, std::move(factory), aliases);
}

std::unique_ptr<Regularizer> make_regularizer(const std::string& name, const Config& config) {
  const RegularizerFactory factory = regularizers().find(name).second;
  std::unique_ptr<Regularizer> regularizer = factory(config.is_null() ? Config::object() : config);
  if (!regularizer) throw InvalidArgument("make_regularizer: the factory of " + quote_value(name) + " returned null");
  return regularizer;
}

std::unique_ptr<Regularizer> make_regularizer(const std::string& name) { return make_regularizer(name, Config::object()); }

std::vector<std::string> regularizer_names() { return regularizers().names(); }

std::shared_ptr<const Regularizer> l1(double l1) {
  return std::make_shared<WeightPenalty>("l1", checked_factor("l1", "l1", l1), 0.0);
}

std::shared_ptr<const Regularizer> l2(double l2) {
  return std::make_shared<WeightPenalty>("l2", 0.0, checked_factor("l2", "l2", l2));
}

std::shared_ptr<const Regularizer> l1_l2(double l1, double l2) {
  return std::make_shared<WeightPenalty>("l1_l2", checked_factor("l1_l2", "l1", l1), checked_factor("l1_l2", "l2", l2));
}

RegularizerSpec::RegularizerSpec(const char* name) : RegularizerSpec(std::string(name)) {}

RegularizerSpec::RegularizerSpec(const std::string& name) : regularizer_(make_regularizer(name)) {}

RegularizerSpec RegularizerSpec::from_config(const Config& identifier) {
  if (identifier.is_null()) return {};
  const detail::KerasIdentifier read = detail::read_keras_identifier(identifier, "regularizer");
  return RegularizerSpec(make_regularizer(read.name, read.config));
}

Config RegularizerSpec::to_config() const {
  if (!regularizer_) return nullptr;
  const std::string name = regularizer_->name();
  return detail::write_keras_identifier(name, regularizer_->config(), [&] { return make_regularizer(name)->config(); });
}

bool operator==(const RegularizerSpec& a, const RegularizerSpec& b) {
  return a.regularizer_ == b.regularizer_ || a.to_config() == b.to_config();
}

std::ostream& operator<<(std::ostream& out, const RegularizerSpec& spec) { return out << spec.to_config().dump(); }

}  // namespace xdense
