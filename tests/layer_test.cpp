// Tests of the Layer interface (layer.hpp): parameter_count() over parameters(),
// and the protected check_columns() helper, reached through a tiny Layer defined here.

#include "xdense/layer.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "xdense/activation.hpp"
#include "xdense/builtin_activations.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/random.hpp"

namespace xdense {
namespace {

/// y = 2 x with two made-up parameter arrays (3 and 4 floats), to exercise the
/// Layer base class without any library layer in the way.
class Doubler final : public Layer {
 public:
  std::string type_name() const override { return "Doubler"; }
  void build(std::size_t input_units, Rng& /*rng*/) override {
    units_ = input_units;
    output_.reserve(0, units_);
  }
  bool built() const override { return units_ != 0; }
  std::size_t input_units() const override { return units_; }
  std::size_t output_units() const override { return units_; }
  void reserve(std::size_t rows) override { output_.reserve(rows, units_); }
  ConstMatrixView forward(ConstMatrixView x) override {
    check_columns(x, units_);
    MatrixView y = output_.view(x.rows);
    for (std::size_t i = 0; i < x.size(); ++i) y.data[i] = 2.0f * x.data[i];
    return y;
  }
  ConstMatrixView backward(ConstMatrixView dy, bool /*need_input_gradient*/) override {
    check_columns(dy, units_);
    return dy;
  }
  std::vector<Parameter> parameters() const override {
    auto* self = const_cast<Doubler*>(this);
    return {{"a", self->a_, self->a_grad_, 3}, {"b", self->b_, self->b_grad_, 4}};
  }

 private:
  std::size_t units_ = 0;
  BatchBuffer output_;
  float a_[3] = {}, a_grad_[3] = {}, b_[4] = {}, b_grad_[4] = {};
};

/// A layer with no parameters, relying on the default parameters().
class NoParameters final : public Layer {
 public:
  std::string type_name() const override { return "NoParameters"; }
  void build(std::size_t, Rng&) override {}
  bool built() const override { return true; }
  std::size_t input_units() const override { return 1; }
  std::size_t output_units() const override { return 1; }
  void reserve(std::size_t) override {}
  ConstMatrixView forward(ConstMatrixView x) override { return x; }
  ConstMatrixView backward(ConstMatrixView dy, bool) override { return dy; }
};

TEST(LayerParameterCount, SumsParameterSizes) {
  Doubler layer;
  EXPECT_EQ(layer.parameter_count(), 7u);  // 3 + 4
  NoParameters none;
  EXPECT_TRUE(none.parameters().empty());
  EXPECT_EQ(none.parameter_count(), 0u);
}

TEST(LayerParameterCount, Dense) {
  Dense layer(4);
  EXPECT_EQ(layer.parameter_count(), 0u);  // nothing until built
  Rng rng(1);
  layer.build(10, rng);
  EXPECT_EQ(layer.parameter_count(), 44u);  // 10 * 4 kernel + 4 bias
  DenseOptions no_bias;
  no_bias.use_bias = false;
  Dense kernel_only(4, 10, no_bias);
  kernel_only.build(10, rng);
  EXPECT_EQ(kernel_only.parameter_count(), 40u);
  Layer& as_layer = layer;  // through the base class too
  EXPECT_EQ(as_layer.parameter_count(), 44u);
}

TEST(LayerParameterCount, ActivationsHaveNone) {
  Rng rng(1);
  for (const auto& name : activation_names()) {
    auto layer = make_activation(name);
    layer->build(5, rng);
    EXPECT_EQ(layer->parameter_count(), 0u) << name;
  }
  ReLU relu;
  EXPECT_EQ(relu.parameter_count(), 0u);
}

TEST(LayerCheckColumns, AcceptsTheExpectedWidth) {
  Doubler layer;
  Rng rng(1);
  layer.build(3, rng);
  Matrix x = Matrix::from_shape({2, 3});
  for (std::size_t i = 0; i < 6; ++i) x.data()[i] = static_cast<float>(i);
  const ConstMatrixView y = layer.forward(view(x));
  EXPECT_EQ(y.rows, 2u);
  EXPECT_EQ(y(1, 2), 10.0f);
  // Zero rows with the right width are fine too.
  EXPECT_NO_THROW(layer.forward(ConstMatrixView(x.data(), 0, 3)));
}

TEST(LayerCheckColumns, ThrowsShapeErrorNamingLayerExpectedAndReceived) {
  Doubler layer;
  Rng rng(1);
  layer.build(3, rng);
  Matrix x = Matrix::from_shape({2, 5});
  x.fill(1.0f);
  try {
    layer.forward(view(x));
    ADD_FAILURE() << "no ShapeError";
  } catch (const ShapeError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("Doubler"), std::string::npos) << message;  // the layer's type_name()
    EXPECT_NE(message.find("3 columns"), std::string::npos) << message;
    EXPECT_NE(message.find("(2, 5)"), std::string::npos) << message;
  }
  // A ShapeError is an xdense::Error, catchable as std::runtime_error.
  EXPECT_THROW(layer.backward(view(x), true), Error);
  EXPECT_THROW(layer.backward(view(x), true), std::runtime_error);
  Matrix narrow = Matrix::from_shape({4, 2});
  EXPECT_THROW(layer.forward(view(narrow)), ShapeError);
}

TEST(LayerInterface, IsNotCopyable) {
  static_assert(!std::is_copy_constructible_v<Dense>, "layers own buffers that views point into");
  static_assert(!std::is_copy_assignable_v<Dense>, "layers own buffers that views point into");
  static_assert(!std::is_copy_constructible_v<Doubler>, "the base class forbids copies");
  static_assert(std::has_virtual_destructor_v<Layer>, "layers are owned through unique_ptr<Layer>");
  std::unique_ptr<Layer> owned = std::make_unique<Doubler>();
  EXPECT_EQ(owned->type_name(), "Doubler");
}

}  // namespace
}  // namespace xdense
