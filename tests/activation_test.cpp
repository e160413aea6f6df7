// Tests of the Activation interface and the activation registry (activation.hpp):
// resolving every built-in name, alias and argument form; the errors for bad specs;
// user-defined activations (an ElementwiseActivation registered by name, and a
// direct Activation subclass working on whole blocks); the base class's state and
// shape checks.

#include "xdense/activation.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gradient_check.hpp"
#include "xdense/builtin_activations.hpp"
#include "xdense/error.hpp"
#include "xdense/random.hpp"
#include "xdense/tensor.hpp"

namespace xdense {
namespace {

using Real = long double;

Matrix random_matrix(std::size_t rows, std::size_t cols, double low, double high, std::uint64_t seed) {
  Rng rng(seed);
  Matrix m = Matrix::from_shape({rows, cols});
  for (std::size_t i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(rng.uniform(low, high));
  return m;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// The InvalidArgument message make_activation(spec) gives; fails the test if none.
std::string error_for(const std::string& spec) {
  try {
    auto layer = make_activation(spec);
    ADD_FAILURE() << "no InvalidArgument for '" << spec << "', got " << (layer ? layer->spec() : "null");
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return {};
}

void check_gradient(Activation& layer, Matrix x, const std::string& what) {
  testing::expect_activation_gradient(layer, std::move(x), what);
}

const std::vector<std::string> built_in_names = {"binary_step", "binary_step_ste", "leaky_relu", "linear",
                                                 "relu",        "sigmoid",         "softmax",    "tanh"};

// ------------------------------------------------------------- user-defined activations

/// softplus_b(x) = log(1 + e^(b x)) / b, written as max(x, 0) + log1p(e^-|b x|) / b
/// so it never overflows; its derivative is sigmoid(b x). An example of a user's
/// ElementwiseActivation with an argument (b, default 1).
class Softplus final : public ElementwiseActivation {
 public:
  explicit Softplus(float beta = 1.0f) : beta_(beta) {}
  std::string type_name() const override { return "Softplus"; }
  std::string spec() const override { return beta_ == 1.0f ? "softplus" : "softplus(" + std::to_string(beta_) + ")"; }
  float value(float x) const override {
    return std::max(x, 0.0f) + std::log1p(std::exp(-std::abs(beta_ * x))) / beta_;
  }
  float gradient(float x, float /*y*/) const override {
    const float e = std::exp(-std::abs(beta_ * x));  // in (0, 1]: no overflow
    return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
  }
  float beta() const { return beta_; }

 private:
  float beta_;
};

void register_softplus() {
  register_activation(
      "softplus",
      [](const std::vector<std::string>& args) -> std::unique_ptr<Activation> {
        if (args.empty()) return std::make_unique<Softplus>();
        if (args.size() != 1) throw InvalidArgument("softplus takes one argument (beta)");
        const float beta = parse_activation_argument("softplus", args[0]);
        if (!(beta > 0.0f)) throw InvalidArgument("softplus: expected beta > 0, received '" + args[0] + "'");
        return std::make_unique<Softplus>(beta);
      },
      {"SmoothReLU"});
}

/// Per-row L2 normalisation y = x / |x|: not elementwise, so it implements the
/// block interface of Activation directly.
///   dL/dx = (dy - y <y, dy>) / |x|   (the Jacobian (I - y y^T) / |x| is symmetric)
class L2Normalize final : public Activation {
 public:
  std::string type_name() const override { return "L2Normalize"; }
  std::string spec() const override { return "l2_normalize"; }
  void activate(ConstMatrixView x, MatrixView y) const override {
    for (std::size_t r = 0; r < x.rows; ++r) {
      const float inverse = 1.0f / norm(x.row(r), x.cols);
      for (std::size_t c = 0; c < x.cols; ++c) y(r, c) = x(r, c) * inverse;
    }
  }
  void derivative(ConstMatrixView x, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const override {
    for (std::size_t r = 0; r < x.rows; ++r) {
      float dot = 0.0f;
      for (std::size_t c = 0; c < x.cols; ++c) dot += y(r, c) * dy(r, c);
      const float inverse = 1.0f / norm(x.row(r), x.cols);
      for (std::size_t c = 0; c < x.cols; ++c) dx(r, c) = (dy(r, c) - y(r, c) * dot) * inverse;
    }
  }

 private:
  static float norm(const float* v, std::size_t n) {
    float sum = 0.0f;
    for (std::size_t i = 0; i < n; ++i) sum += v[i] * v[i];
    return std::sqrt(sum);
  }
};

// ------------------------------------------------------------- resolving names

TEST(MakeActivation, EveryBuiltInNameAndAlias) {
  struct Case {
    const char* spec;
    const char* type_name;
    const char* canonical;
  };
  const Case cases[] = {
      {"linear", "Linear", "linear"},
      {"identity", "Linear", "linear"},
      {"binary_step", "BinaryStep", "binary_step"},
      {"step", "BinaryStep", "binary_step"},
      {"heaviside", "BinaryStep", "binary_step"},
      {"binary_step(ste)", "BinaryStep(STE)", "binary_step(ste)"},
      {"binary_step(STE)", "BinaryStep(STE)", "binary_step(ste)"},
      {"binary_step_ste", "BinaryStep(STE)", "binary_step(ste)"},
      {"step(ste)", "BinaryStep(STE)", "binary_step(ste)"},
      {"sigmoid", "Sigmoid", "sigmoid"},
      {"logistic", "Sigmoid", "sigmoid"},
      {"tanh", "Tanh", "tanh"},
      {"relu", "ReLU", "relu"},
      {"ReLU", "ReLU", "relu"},
      {"RELU", "ReLU", "relu"},
      {"  relu  ", "ReLU", "relu"},
      {"leaky_relu", "LeakyReLU", "leaky_relu(0.3)"},
      {"leakyrelu", "LeakyReLU", "leaky_relu(0.3)"},
      {"LeakyReLU", "LeakyReLU", "leaky_relu(0.3)"},
      {"lrelu", "LeakyReLU", "leaky_relu(0.3)"},
      {"softmax", "Softmax", "softmax"},
      {"Softmax", "Softmax", "softmax"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.spec);
    const auto layer = make_activation(c.spec);
    ASSERT_NE(layer, nullptr);
    EXPECT_EQ(layer->type_name(), c.type_name);
    EXPECT_EQ(layer->spec(), c.canonical);
    EXPECT_FALSE(layer->built());
  }
}

TEST(MakeActivation, ReturnsTheRightClasses) {
  EXPECT_NE(dynamic_cast<Linear*>(make_activation("identity").get()), nullptr);
  EXPECT_NE(dynamic_cast<Sigmoid*>(make_activation("logistic").get()), nullptr);
  EXPECT_NE(dynamic_cast<Tanh*>(make_activation("tanh").get()), nullptr);
  EXPECT_NE(dynamic_cast<ReLU*>(make_activation("ReLU").get()), nullptr);
  EXPECT_NE(dynamic_cast<Softmax*>(make_activation("softmax").get()), nullptr);
  const auto step = make_activation("heaviside");
  ASSERT_NE(dynamic_cast<BinaryStep*>(step.get()), nullptr);
  EXPECT_FALSE(dynamic_cast<BinaryStep&>(*step).straight_through());
  const auto ste = make_activation("binary_step_ste");
  ASSERT_NE(dynamic_cast<BinaryStep*>(ste.get()), nullptr);
  EXPECT_TRUE(dynamic_cast<BinaryStep&>(*ste).straight_through());
  // Each call gives a fresh, independent instance.
  EXPECT_NE(make_activation("relu").get(), make_activation("relu").get());
}

TEST(MakeActivation, LeakyReLUSlopeArgument) {
  for (const char* spec : {"leaky_relu(0.1)", "LeakyReLU(0.1)", "lrelu( 0.1 )", " leaky_relu ( 0.1 ) ", "leaky_relu(1e-1)"}) {
    SCOPED_TRACE(spec);
    const auto layer = make_activation(spec);
    const auto* leaky = dynamic_cast<const LeakyReLU*>(layer.get());
    ASSERT_NE(leaky, nullptr);
    EXPECT_EQ(leaky->negative_slope(), 0.1f);
    EXPECT_EQ(layer->spec(), "leaky_relu(0.1)");
  }
  EXPECT_EQ(dynamic_cast<const LeakyReLU&>(*make_activation("leaky_relu(0)")).negative_slope(), 0.0f);
}

TEST(MakeActivation, ResolvedLayersComputeTheirFunction) {
  // A resolved "leaky_relu(0.1)" really uses slope 0.1: f(-2) = -0.2, f(3) = 3.
  const auto layer = make_activation("leaky_relu(0.1)");
  Rng rng(1);
  layer->build(2, rng);
  Matrix x = Matrix::from_shape({1, 2});
  x(0, 0) = -2.0f;
  x(0, 1) = 3.0f;
  const ConstMatrixView y = layer->forward(view(x));
  EXPECT_FLOAT_EQ(y(0, 0), -0.2f);
  EXPECT_FLOAT_EQ(y(0, 1), 3.0f);
}

TEST(ActivationNamesList, SortedCanonicalNamesWithoutAliases) {
  const std::vector<std::string> names = activation_names();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end()) << "duplicates";
  for (const auto& name : built_in_names) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
  for (const char* alias : {"identity", "step", "heaviside", "logistic", "leakyrelu", "lrelu"}) {
    EXPECT_EQ(std::find(names.begin(), names.end(), alias), names.end()) << alias;
  }
  // Every listed name resolves.
  for (const auto& name : names) EXPECT_NO_THROW(make_activation(name)) << name;
}

// ------------------------------------------------------------- bad specs

TEST(MakeActivation, UnknownNameListsKnownOnes) {
  const std::string message = error_for("swoosh");
  EXPECT_TRUE(contains(message, "'swoosh'")) << message;
  for (const auto& name : activation_names()) EXPECT_TRUE(contains(message, name)) << name << " in: " << message;
  EXPECT_TRUE(contains(error_for("Swoosh(2)"), "Swoosh(2)"));
  EXPECT_TRUE(contains(error_for(""), "expected one of"));
  EXPECT_TRUE(contains(error_for("(0.1)"), "(0.1)"));
}

TEST(MakeActivation, NonNumericArgumentIsQuoted) {
  const std::string message = error_for("leaky_relu(abc)");
  EXPECT_TRUE(contains(message, "leaky_relu")) << message;
  EXPECT_TRUE(contains(message, "'abc'")) << message;
  EXPECT_TRUE(contains(error_for("leaky_relu(0.1x)"), "0.1x"));
  EXPECT_TRUE(contains(error_for("leaky_relu(nan)"), "nan"));
  EXPECT_TRUE(contains(error_for("leaky_relu(inf)"), "inf"));
}

TEST(MakeActivation, ArgumentToAParameterFreeActivation) {
  // The message names the activation and says it takes no arguments (it reports
  // how many it received rather than quoting them).
  for (const char* spec : {"relu(1)", "sigmoid(2)", "softmax(0)", "linear(a)", "binary_step_ste(ste)"}) {
    const std::string message = error_for(spec);
    const std::string name = std::string(spec).substr(0, std::string(spec).find('('));
    EXPECT_TRUE(contains(message, "'" + name + "'")) << message;
    EXPECT_TRUE(contains(message, "no arguments")) << message;
  }
}

TEST(MakeActivation, MissingClosingParenthesisQuotesTheSpec) {
  const std::string message = error_for("leaky_relu(0.1");
  EXPECT_TRUE(contains(message, "leaky_relu(0.1")) << message;
  EXPECT_TRUE(contains(message, ")")) << message;
  EXPECT_TRUE(contains(error_for("relu(1)x"), "relu(1)x"));
}

// Issue 11: "leaky_relu()" was taken as leaky_relu with its default slope; empty brackets
// more likely mean a forgotten argument, so every "name()" is refused, saying what to write.
TEST(MakeActivation, EmptyBracketsAreRefusedWithWhatToWrite) {
  std::string message = error_for("leaky_relu()");
  EXPECT_TRUE(contains(message, "'leaky_relu()': empty brackets; write leaky_relu or leaky_relu(0.3)")) << message;
  message = error_for(" LReLU ( ) ");
  EXPECT_TRUE(contains(message, "'LReLU ( )': empty brackets; write LReLU or LReLU(0.3)")) << message;
  message = error_for("binary_step()");
  EXPECT_TRUE(contains(message, "write binary_step or binary_step(ste)")) << message;
  for (const char* spec : {"relu()", "sigmoid()", "softmax( )", "tanh()", "linear()", "binary_step_ste()"}) {
    message = error_for(spec);
    const std::string name = std::string(spec).substr(0, std::string(spec).find('('));
    const std::string advice = message.substr(message.find("empty brackets"));
    EXPECT_EQ(advice, "empty brackets; write " + name) << "no argument to suggest: " << message;
  }
  // An unknown name stays an unknown name.
  EXPECT_TRUE(contains(error_for("swoosh()"), "unknown activation 'swoosh()'"));
}

// A user's activation registers as the built-ins do (they register from their own .cpp), with an
// example of its arguments for the same message; without one, the message cannot suggest any.
TEST(MakeActivation, RegisteredExampleArgumentsReachTheEmptyBracketsMessage) {
  const ActivationFactory scaled = [](const std::vector<std::string>& args) -> std::unique_ptr<Activation> {
    if (args.size() > 1) throw InvalidArgument("scaled_test_relu takes one argument");
    if (args.empty()) return std::make_unique<LeakyReLU>(0.5f);
    return std::make_unique<LeakyReLU>(parse_activation_argument("scaled_test_relu", args[0]));
  };
  register_activation("scaled_test_relu", scaled, {}, "0.5");
  EXPECT_TRUE(contains(error_for("scaled_test_relu()"), "write scaled_test_relu or scaled_test_relu(0.5)"));
  register_activation("scaled_test_relu", scaled);  // replaced without an example
  const std::string message = error_for("scaled_test_relu()");
  EXPECT_TRUE(contains(message, "put the arguments inside the brackets")) << message;
  register_activation("plain_test_relu", activation_without_arguments<ReLU>("plain_test_relu"), {}, "");
  EXPECT_TRUE(contains(error_for("plain_test_relu(1)"), "activation 'plain_test_relu' takes no arguments"));
  EXPECT_EQ(make_activation("plain_test_relu")->spec(), "relu");
}

TEST(MakeActivation, MalformedBracketsAndArgumentsSayWhatIsWrong) {
  struct Case {
    const char* spec;
    const char* says;
  };
  const Case cases[] = {
      {"leaky_relu(0.1", "'leaky_relu(0.1': missing ')'"},
      {"leaky_relu0.1)", "')' without '('"},
      {"leaky_relu)0.1(", "')' without '('"},
      {"leaky_relu((0.1))", "a second '('"},
      {"leaky_relu(0.1))", "unexpected ')' after ')'"},
      {"leaky_relu(0.1)x", "unexpected 'x' after ')'"},
      {"leaky_relu(0.1) (0.2)", "unexpected ' (0.2)' after ')'"},
      {"leaky_relu(0.1,)", "argument 2 is empty"},
      {"leaky_relu(, 0.1)", "argument 1 is empty"},
      {"leaky_relu(0.1,,0.2)", "argument 2 is empty"},
      {"leaky_relu( , )", "argument 1 is empty"},
      {"relu(1)", "'relu' takes no arguments"},
      {"leaky_relu(nan)", "expected a finite number, received 'nan'"},
      {"leaky_relu(-inf)", "expected a finite number, received '-inf'"},
      {"leaky_relu(Infinity)", "expected a finite number, received 'Infinity'"},
      {"leaky_relu(1e39)", "received '1e39', beyond the float range"},
      {"leaky_relu(0x0.8)", "expected a number, received '0x0.8'"},
      {"leaky_relu(0.1 0.2)", "expected a number, received '0.1 0.2'"},
      {"leaky_relu(-0.5)", "-0.5"},
  };
  for (const Case& c : cases) {
    const std::string message = error_for(c.spec);
    EXPECT_TRUE(contains(message, c.says)) << c.spec << " -> " << message;
  }
  // Still accepted: spaces around the name, brackets and argument; exponents; a leading '+'.
  for (const char* spec : {" leaky_relu ( 0.25 ) ", "leaky_relu(2.5e-1)", "leaky_relu(+0.25)", "leaky_relu(.25)"}) {
    const auto layer = make_activation(spec);
    EXPECT_EQ(dynamic_cast<const LeakyReLU&>(*layer).negative_slope(), 0.25f) << spec;
  }
  // The largest float is a (silly but) valid slope: no overflow error below the float range.
  EXPECT_NO_THROW(make_activation("leaky_relu(3.4e38)"));
}

TEST(MakeActivation, OtherBadArguments) {
  EXPECT_TRUE(contains(error_for("leaky_relu(0.1, 0.2)"), "leaky_relu"));
  EXPECT_TRUE(contains(error_for("leaky_relu(-0.5)"), "-0.5"));  // negative slope
  EXPECT_TRUE(contains(error_for("binary_step(fast)"), "'fast'"));
  EXPECT_TRUE(contains(error_for("binary_step(ste, ste)"), "binary_step"));
}

// ------------------------------------------------------------- user-defined

TEST(UserActivation, RegisteredSoftplusResolvesByNameAndAlias) {
  register_softplus();
  for (const char* spec : {"softplus", "SOFTPLUS", "smoothrelu", "SmoothReLU", " softplus "}) {
    SCOPED_TRACE(spec);
    const auto layer = make_activation(spec);
    const auto* softplus = dynamic_cast<const Softplus*>(layer.get());
    ASSERT_NE(softplus, nullptr);
    EXPECT_EQ(softplus->beta(), 1.0f);
    EXPECT_EQ(layer->spec(), "softplus");
  }
  EXPECT_EQ(dynamic_cast<const Softplus&>(*make_activation("softplus(2)")).beta(), 2.0f);
  const auto names = activation_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "softplus"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "smoothrelu"), names.end());  // aliases not listed
  // The factory's own errors reach the caller; parse_activation_argument quotes the text.
  EXPECT_TRUE(contains(error_for("softplus(abc)"), "'abc'"));
  EXPECT_TRUE(contains(error_for("softplus(-1)"), "-1"));
}

TEST(UserActivation, SoftplusValuesAndDerivativesThroughTheLayer) {
  register_softplus();
  const auto layer = make_activation("softplus");
  Rng rng(1);
  const std::vector<float> xs = {0.0f, 0.5f, -0.5f, 3.0f, -3.0f, 20.0f, -20.0f, 100.0f, -100.0f};
  layer->build(xs.size(), rng);
  Matrix x = Matrix::from_shape({1, xs.size()});
  std::copy(xs.begin(), xs.end(), x.data());
  const Matrix y = to_matrix(layer->forward(view(x)));
  const Matrix dy = random_matrix(1, xs.size(), 0.5, 2.0, 3);
  const Matrix dx = to_matrix(layer->backward(view(dy)));
  for (std::size_t c = 0; c < xs.size(); ++c) {
    const Real v = xs[c];
    const Real expected_y = std::log(1.0L + std::exp(v));        // softplus = log(1 + e^x)
    const Real expected_dx = dy(0, c) / (1.0L + std::exp(-v));  // dy * softplus' = dy * sigmoid(x)
    EXPECT_NEAR(static_cast<double>(y(0, c)), static_cast<double>(expected_y), 2e-6 * (1.0 + std::abs(double(v))))
        << "x=" << v;
    EXPECT_NEAR(static_cast<double>(dx(0, c)), static_cast<double>(expected_dx), 1e-6) << "x=" << v;
  }
}

TEST(UserActivation, SoftplusGradientMatchesFiniteDifferences) {
  register_softplus();
  const auto plain = make_activation("softplus");
  check_gradient(*plain, random_matrix(4, 5, -3.0, 3.0, 7), "softplus dL/dx");
  const auto sharp = make_activation("softplus(3)");
  check_gradient(*sharp, random_matrix(4, 5, -3.0, 3.0, 11), "softplus(3) dL/dx");
}

TEST(UserActivation, DirectSubclassWorkingOnBlocks) {
  L2Normalize layer;
  Rng rng(1);
  Matrix x = random_matrix(3, 4, 0.5, 2.0, 13);
  x(1, 2) = -1.5f;
  layer.build(4, rng);
  const Matrix y = to_matrix(layer.forward(view(x)));
  EXPECT_EQ(layer.last_input().data, x.data());
  for (std::size_t r = 0; r < 3; ++r) {
    long double norm2 = 0.0L;
    for (std::size_t c = 0; c < 4; ++c) norm2 += static_cast<long double>(x(r, c)) * x(r, c);
    for (std::size_t c = 0; c < 4; ++c) {
      EXPECT_NEAR(y(r, c), static_cast<double>(x(r, c) / std::sqrt(norm2)), 1e-6);  // x / |x|
    }
  }
  L2Normalize checked;
  check_gradient(checked, random_matrix(3, 4, 0.5, 2.0, 17), "l2_normalize dL/dx");
  // Also resolvable by name once registered.
  register_activation("l2_normalize", [](const std::vector<std::string>&) { return std::make_unique<L2Normalize>(); });
  EXPECT_EQ(make_activation("L2_Normalize")->type_name(), "L2Normalize");
}

TEST(UserActivation, RegisterReplacesAnEntryAndRejectsBadNames) {
  register_activation("replace_me", [](const std::vector<std::string>&) { return std::make_unique<Tanh>(); });
  EXPECT_EQ(make_activation("replace_me")->type_name(), "Tanh");
  register_activation("replace_me", [](const std::vector<std::string>&) { return std::make_unique<Softmax>(); });
  EXPECT_EQ(make_activation("replace_me")->type_name(), "Softmax");
  const ActivationFactory tanh_factory = [](const std::vector<std::string>&) { return std::make_unique<Tanh>(); };
  EXPECT_THROW(register_activation("", tanh_factory), InvalidArgument);
  EXPECT_THROW(register_activation("two words", tanh_factory), InvalidArgument);
  EXPECT_THROW(register_activation("f(x)", tanh_factory), InvalidArgument);
  EXPECT_THROW(register_activation("a,b", tanh_factory), InvalidArgument);
  EXPECT_THROW(register_activation("empty_factory", ActivationFactory{}), InvalidArgument);
  EXPECT_TRUE(contains(error_for("empty_factory"), "unknown activation"));
}

// ------------------------------------------------------------- the Activation base class

TEST(ActivationLayer, ForwardBeforeBuildThrowsStateError) {
  const auto layer = make_activation("relu");
  Matrix x = Matrix::from_shape({2, 3});
  x.fill(1.0f);
  EXPECT_THROW(layer->forward(view(x)), StateError);
  EXPECT_THROW(layer->backward(view(x)), StateError);
  try {
    layer->forward(view(x));
  } catch (const StateError& e) {
    EXPECT_TRUE(contains(e.what(), "ReLU")) << e.what();
    EXPECT_TRUE(contains(e.what(), "build")) << e.what();
  }
}

TEST(ActivationLayer, BuildWithZeroUnitsThrows) {
  Rng rng(1);
  EXPECT_THROW(make_activation("tanh")->build(0, rng), InvalidArgument);
}

TEST(ActivationLayer, WrongColumnCountThrowsShapeError) {
  const auto layer = make_activation("sigmoid");
  Rng rng(1);
  layer->build(4, rng);
  Matrix x = Matrix::from_shape({2, 3});
  x.fill(0.5f);
  try {
    layer->forward(view(x));
    ADD_FAILURE() << "no ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_TRUE(contains(e.what(), "Sigmoid")) << e.what();
    EXPECT_TRUE(contains(e.what(), "4")) << e.what();
    EXPECT_TRUE(contains(e.what(), "(2, 3)")) << e.what();
  }
}

TEST(ActivationLayer, BackwardChecksDyShape) {
  const auto layer = make_activation("tanh");
  Rng rng(1);
  layer->build(3, rng);
  Matrix x = random_matrix(2, 3, -1.0, 1.0, 1);
  layer->forward(view(x));
  Matrix wrong_cols = Matrix::from_shape({2, 4});
  Matrix wrong_rows = Matrix::from_shape({3, 3});
  EXPECT_THROW(layer->backward(view(wrong_cols)), ShapeError);
  EXPECT_THROW(layer->backward(view(wrong_rows)), ShapeError);
}

TEST(ActivationLayer, NoInputGradientRequestedGivesEmptyView) {
  const auto layer = make_activation("tanh");
  Rng rng(1);
  layer->build(3, rng);
  Matrix x = random_matrix(2, 3, -1.0, 1.0, 1);
  layer->forward(view(x));
  const ConstMatrixView dx = layer->backward(view(x), false);
  EXPECT_EQ(dx.size(), 0u);
  EXPECT_EQ(dx.data, nullptr);
}

TEST(ActivationLayer, SmallerBatchReusesBuffers) {
  const auto layer = make_activation("relu");
  Rng rng(1);
  layer->build(3, rng);
  layer->reserve(16);
  Matrix big = random_matrix(16, 3, -1.0, 1.0, 2);
  Matrix small = random_matrix(5, 3, -1.0, 1.0, 3);
  const ConstMatrixView y_big = layer->forward(view(big));
  const ConstMatrixView dx_big = layer->backward(view(big));
  const ConstMatrixView y_small = layer->forward(view(small));
  const ConstMatrixView dx_small = layer->backward(view(small));
  EXPECT_EQ(y_small.data, y_big.data);
  EXPECT_EQ(dx_small.data, dx_big.data);
  EXPECT_EQ(y_small.rows, 5u);
  EXPECT_EQ(dx_small.rows, 5u);
  for (std::size_t i = 0; i < small.size(); ++i) {
    const float v = small.data()[i];
    EXPECT_EQ(y_small.data[i], v > 0.0f ? v : 0.0f);   // relu(x)
    EXPECT_EQ(dx_small.data[i], v > 0.0f ? v : 0.0f);  // dy = x: dx = x where x > 0
  }
  EXPECT_EQ(layer->last_input().data, small.data());
  EXPECT_EQ(layer->last_input().rows, 5u);
}

}  // namespace
}  // namespace xdense
