// Sequential::predict_into(): the allocation-free form of predict() for serving. Its outputs
// against a double-precision forward pass, against predict() and across batch sizes; its errors;
// and no heap allocation per call after the first. This program replaces the global operator new
// to count allocations (its own executable, so no other test is affected).

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/layers/dropout.hpp"
#include "xdense/random.hpp"
#include "xdense/sequential.hpp"

namespace {
std::atomic<std::size_t> allocations{0};
}

// Out of line: see sequential_allocation_test.cpp (GCC's -Wmismatched-new-delete).
[[gnu::noinline]] void* operator new(std::size_t size) {
  ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new[](std::size_t size) { return operator new(size); }
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace xdense {
namespace {

Matrix random_matrix(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  Rng rng(seed);
  Matrix m = Matrix::from_shape({rows, cols});
  for (float& v : m) v = static_cast<float>(rng.uniform(0.0, 1.0));
  return m;
}

// units[0] inputs, Dense layers of units[1..] with ReLU between them and softmax at the end, as
// the Fashion-MNIST MLP (784-256-128-10). Biases drawn too (the default initialiser gives zeros).
Sequential make_mlp(const std::vector<std::size_t>& units, std::uint64_t seed = 3) {
  Sequential model(seed);
  for (std::size_t l = 1; l < units.size(); ++l) {
    DenseOptions options;
    options.bias_initializer = "random_uniform";
    model.add(std::make_unique<Dense>(units[l], 0, options));
    model.add(l + 1 < units.size() ? "relu" : "softmax");
  }
  model.build(units[0]);
  return model;
}

// The model's outputs for x computed in double from its float weights.
std::vector<double> reference_forward(const Sequential& model, const Matrix& x) {
  std::vector<double> a(x.begin(), x.end());
  std::size_t width = x.shape(1);
  const std::size_t rows = x.shape(0);
  for (std::size_t l = 0; l < model.layer_count(); l += 2) {
    const auto& dense = dynamic_cast<const Dense&>(model.layer(l));
    const std::size_t units = dense.output_units();
    const bool last = l + 2 >= model.layer_count();
    std::vector<double> z(rows * units);
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t j = 0; j < units; ++j) {
        double sum = dense.bias()(j);
        for (std::size_t p = 0; p < width; ++p) sum += a[r * width + p] * dense.kernel()(p, j);
        z[r * units + j] = last ? sum : std::max(sum, 0.0);
      }
      if (last) {  // softmax
        double* row = z.data() + r * units;
        const double top = *std::max_element(row, row + units);
        double total = 0.0;
        for (std::size_t j = 0; j < units; ++j) total += row[j] = std::exp(row[j] - top);
        for (std::size_t j = 0; j < units; ++j) row[j] /= total;
      }
    }
    a = std::move(z);
    width = units;
  }
  return a;
}

TEST(SequentialPredictInto, MatchesADoublePrecisionForwardPassForOneToSeventeenRows) {
  // Widths that are not multiples of the vector width; 300 x 70 takes the small-row kernels.
  for (const std::vector<std::size_t>& units :
       {std::vector<std::size_t>{784, 256, 128, 10}, std::vector<std::size_t>{300, 70, 9}}) {
    Sequential model = make_mlp(units);
    const Matrix x = random_matrix(17, units[0], 11);
    const std::vector<double> expected = reference_forward(model, x);
    const std::size_t out_units = units.back();
    for (std::size_t rows = 1; rows <= 17; ++rows) {
      Matrix out = Matrix::from_shape({rows, out_units});
      model.predict_into({x.data(), rows, units[0]}, view(out));
      for (std::size_t e = 0; e < rows * out_units; ++e) {
        ASSERT_NEAR(out.data()[e], expected[e], 2e-5) << units[0] << " inputs, " << rows << " rows, at " << e;
      }
    }
  }
}

TEST(SequentialPredictInto, IsPredictBitForBitAndARowDoesNotDependOnItsSmallBatch) {
  Sequential model = make_mlp({784, 256, 128, 10});
  const Matrix x = random_matrix(64, 784, 5);
  const Matrix all = model.predict(x, 64);  // one batch of 64: OpenBLAS's sgemm
  Matrix into = Matrix::from_shape({64, 10});
  model.predict_into(view(x), view(into), 64);
  EXPECT_TRUE(std::equal(all.begin(), all.end(), into.begin()));

  // Batches of up to 16 rows: xdense's kernels, a row's outputs the same bits in any of them.
  Matrix by_16 = Matrix::from_shape({64, 10}), alone = Matrix::from_shape({64, 10});
  model.predict_into(view(x), view(by_16), 16);
  model.predict_into(view(x), view(alone), 1);
  EXPECT_TRUE(std::equal(by_16.begin(), by_16.end(), alone.begin()));
  const Matrix predicted_alone = model.predict(x, 1);
  EXPECT_TRUE(std::equal(predicted_alone.begin(), predicted_alone.end(), alone.begin()));
  // Against the BLAS path: another summation order, the same values to float rounding.
  for (std::size_t e = 0; e < all.size(); ++e) ASSERT_NEAR(alone.data()[e], all.data()[e], 1e-5) << e;
}

TEST(SequentialPredictInto, BuildsAnUnbuiltModelAndRunsInInferenceMode) {
  Sequential model(9);
  model.add(std::make_unique<Dense>(40)).add("relu");
  model.add(std::make_unique<Dropout>(0.5));
  model.add(std::make_unique<Dense>(3));
  const Matrix x = random_matrix(5, 600, 2);
  Matrix out = Matrix::from_shape({5, 3});
  model.predict_into(view(x), view(out));
  ASSERT_TRUE(model.built());
  EXPECT_EQ(model.input_units(), 600u);
  // Dropout is off at inference: the same outputs every call, equal to predict()'s.
  Matrix again = Matrix::from_shape({5, 3});
  model.predict_into(view(x), view(again));
  const Matrix predicted = model.predict(x);
  EXPECT_TRUE(std::equal(out.begin(), out.end(), again.begin()));
  EXPECT_TRUE(std::equal(out.begin(), out.end(), predicted.begin()));
}

template <class E>
std::string message_of(Sequential& model, ConstMatrixView x, MatrixView out, std::size_t batch_size = 32) {
  try {
    model.predict_into(x, out, batch_size);
  } catch (const E& e) {
    return e.what();
  }
  return "no exception";
}

TEST(SequentialPredictInto, WrongShapesNameBothShapesAndWriteNothing) {
  Sequential model = make_mlp({20, 30, 4});
  std::vector<float> x(3 * 21, 0.5f), out(3 * 5, -7.0f);
  EXPECT_EQ(message_of<ShapeError>(model, {x.data(), 3, 21}, {out.data(), 3, 4}),
            "Sequential::predict_into: expected x (3, 20) and out (3, 4) (the model's inputs and outputs), "
            "received x (3, 21) and out (3, 4)");
  EXPECT_EQ(message_of<ShapeError>(model, {x.data(), 3, 20}, {out.data(), 2, 4}),
            "Sequential::predict_into: expected x (3, 20) and out (3, 4) (the model's inputs and outputs), "
            "received x (3, 20) and out (2, 4)");
  EXPECT_EQ(message_of<ShapeError>(model, {x.data(), 3, 20}, {out.data(), 3, 5}),
            "Sequential::predict_into: expected x (3, 20) and out (3, 4) (the model's inputs and outputs), "
            "received x (3, 20) and out (3, 5)");
  EXPECT_EQ(message_of<InvalidArgument>(model, {x.data(), 3, 20}, {out.data(), 3, 4}, 0),
            "Sequential::predict_into: expected batch_size >= 1, received 0");
  EXPECT_EQ(message_of<InvalidArgument>(model, {nullptr, 3, 20}, {out.data(), 3, 4}),
            "Sequential::predict_into: expected data for 3 rows, received a null x pointer");
  EXPECT_EQ(message_of<InvalidArgument>(model, {x.data(), 3, 20}, {nullptr, 3, 4}),
            "Sequential::predict_into: expected data for 3 rows, received a null out pointer");
  EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](float v) { return v == -7.0f; }));
  // No rows: nothing to do, whatever the pointers.
  model.predict_into({nullptr, 0, 20}, {nullptr, 0, 4});
}

TEST(SequentialPredictInto, AllocatesNothingPerCallAfterTheFirst) {
  Sequential model = make_mlp({784, 256, 128, 10});
  const Matrix x = random_matrix(40, 784, 4);
  Matrix out = Matrix::from_shape({40, 10});
  // Warm-up: one call per batch size used below sizes the buffers.
  model.predict_into({x.data(), 16, 784}, {out.data(), 16, 10}, 16);
  model.predict_into(view(x), view(out), 40);
  const std::size_t before = allocations.load();
  for (std::size_t call = 0; call < 50; ++call) {
    const std::size_t rows = 1 + call % 16;
    model.predict_into({x.data(), rows, 784}, {out.data(), rows, 10}, 16);
  }
  model.predict_into(view(x), view(out), 40);  // the BLAS path
  model.predict_into(view(x), view(out), 7);   // several batches, the last one short
  EXPECT_EQ(allocations.load() - before, 0u);
}

}  // namespace
}  // namespace xdense
