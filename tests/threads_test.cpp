// Tests of the thread control (threads.hpp): the count set is the count reported,
// bad counts are refused, a given count repeats its results bit for bit, and another
// count agrees to float rounding (OpenBLAS blocks the work differently per count).

#include "xdense/threads.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/random.hpp"
#include "xdense/tensor.hpp"

namespace xdense {
namespace {

// Restores the thread count a test found.
struct KeepThreadCount {
  int saved = num_threads();
  ~KeepThreadCount() { set_num_threads(saved); }
};

TEST(Threads, SetThenGet) {
  KeepThreadCount keep;
  set_num_threads(1);
  EXPECT_EQ(num_threads(), 1);
  if (std::thread::hardware_concurrency() >= 2) {
    set_num_threads(2);
    EXPECT_EQ(num_threads(), 2);
  }
}

TEST(Threads, RejectsFewerThanOne) {
  KeepThreadCount keep;
  const int before = num_threads();
  EXPECT_THROW(set_num_threads(0), InvalidArgument);
  EXPECT_THROW(set_num_threads(-3), InvalidArgument);
  EXPECT_EQ(num_threads(), before);
}

TEST(Threads, LargeProductRepeatsPerCountAndAgreesAcrossCounts) {
  KeepThreadCount keep;
  Rng rng(3);
  Matrix x = Matrix::from_shape({256, 300});
  for (float& v : x) v = static_cast<float>(rng.uniform(-1.0, 1.0));
  Dense layer(200);
  layer.build(300, rng);
  set_num_threads(1);
  const Matrix one = to_matrix(layer.forward(view(x)));
  const Matrix one_again = to_matrix(layer.forward(view(x)));
  set_num_threads(2);
  const Matrix two = to_matrix(layer.forward(view(x)));
  const Matrix two_again = to_matrix(layer.forward(view(x)));
  ASSERT_EQ(one.size(), two.size());
  for (std::size_t i = 0; i < one.size(); ++i) {
    ASSERT_EQ(one.data()[i], one_again.data()[i]) << i;
    ASSERT_EQ(two.data()[i], two_again.data()[i]) << i;
    // Sums of 300 products of O(0.1): a few float roundings apart at most.
    ASSERT_NEAR(one.data()[i], two.data()[i], 1e-5) << i;
  }
}

}  // namespace
}  // namespace xdense
