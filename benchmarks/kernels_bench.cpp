// kernels_bench: Google Benchmark micro-benchmarks of the pieces of a training step, to find
// where the time goes. Shapes are those of the issue-5 workloads: the Fashion-MNIST MLP
// 784-256-128-10 at batch 128 and the tiny 2-16-1 network at batch 32.
//
//   kernels_bench --benchmark_filter=Dense      # one family
//   OPENBLAS_NUM_THREADS=1 kernels_bench        # the thread count matters for every sgemm
//   kernels_bench --benchmark_filter=LargeProduct   # xdense's AVX-512 sgemm vs OpenBLAS's active core
//   XDENSE_KERNELS=openblas|avx512 kernels_bench    # the path Dense and the train steps take
// The context printed first says which path the library's large products take
// (src/kernels/product_kernels.hpp).
//
// cblas_sgemm is declared here by xtensor-blas's bundled CBLAS header (xflens), not by
// <cblas.h>: the two cannot share a translation unit, and BM_Product compares the two.

#include <benchmark/benchmark.h>
#include <xtensor-blas/xblas.hpp>
#include <xtensor/xadapt.hpp>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include <xdense/xdense.hpp>

#include "../src/kernels/gemm_avx512.hpp"
#include "../src/kernels/product_kernels.hpp"

namespace {

xdense::Matrix random_matrix(std::size_t rows, std::size_t cols, double low, double high, std::uint64_t seed) {
  xdense::Rng rng(seed);
  xdense::Matrix m = xdense::Matrix::from_shape({rows, cols});
  for (float& v : m) v = static_cast<float>(rng.uniform(low, high));
  return m;
}

// The layers of the two workloads: batch, inputs, units.
const std::vector<std::vector<std::int64_t>> workload_layers{
    {128, 784, 256}, {128, 256, 128}, {128, 128, 10}, {32, 2, 16}, {32, 16, 1}};

void layer_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"batch", "in", "out"});
  for (const auto& shape : workload_layers) b->Args(shape);
}

double gemm_flops(const benchmark::State& state) {
  return 2.0 * static_cast<double>(state.range(0) * state.range(1) * state.range(2));
}

// The reference: one sgemm of the forward shape, (batch, in) . (in, out), beta 1.
void BM_Sgemm(benchmark::State& state) {
  const auto batch = static_cast<int>(state.range(0)), in = static_cast<int>(state.range(1)),
             out = static_cast<int>(state.range(2));
  const xdense::Matrix x = random_matrix(batch, in, 0, 1, 1), w = random_matrix(in, out, -0.1, 0.1, 2);
  xdense::Matrix y = random_matrix(batch, out, 0, 1, 3);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, out, in, 1.0f, x.data(), in, w.data(), out, 1.0f,
                y.data(), out);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(gemm_flops(state), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_Sgemm)->Apply(layer_shapes);

// The three products of a dense layer's training step, each through the call xdense
// makes (cblas_sgemm on row-major buffers, transposes by flag) and through xtensor-blas's
// xt::blas::gemm into a preallocated output: on the containers themselves, and on
// xt::adapt views of raw pointers, which is what src/blas.cpp would have to pass (it
// works on MatrixView pointers). Arguments: batch, in, out, product:
//   0 forward  y (batch,out) = x (batch,in) . W (in,out)
//   1 dW       dW (in,out)   = x^T . dy (batch,out)
//   2 dx       dx (batch,in) = dy . W^T
// avx512: xdense's own AVX-512 sgemm called directly (src/kernels/gemm_avx512.hpp), where the CPU has it.
enum class Gemm { cblas, xt_blas, xt_blas_adapted, avx512 };

void product_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"batch", "in", "out", "product"});
  for (const auto& shape : workload_layers) {
    for (std::int64_t product = 0; product < 3; ++product) b->Args({shape[0], shape[1], shape[2], product});
  }
}

void product(benchmark::State& state, Gemm how) {
  const auto batch = static_cast<std::size_t>(state.range(0)), in = static_cast<std::size_t>(state.range(1)),
             out = static_cast<std::size_t>(state.range(2));
  const auto which = state.range(3);
  const xdense::Matrix x = random_matrix(batch, in, 0, 1, 1), w = random_matrix(in, out, -0.1, 0.1, 2),
                       dy = random_matrix(batch, out, -1e-3, 1e-3, 3);
  // op(A) (m,k) . op(B) (k,n) into C (m,n).
  const xdense::Matrix& a = which == 2 ? dy : x;
  const xdense::Matrix& b = which == 1 ? dy : w;
  const bool trans_a = which == 1, trans_b = which == 2;
  const std::size_t m = which == 1 ? in : batch, n = which == 2 ? in : out,
                    k = which == 0 ? in : (which == 1 ? batch : out);
  xdense::Matrix c = xdense::Matrix::from_shape({m, n});
  if (how == Gemm::avx512 && !xdense::kernels::cpu_has_avx512()) {
    state.SkipWithError("this CPU does not have AVX-512F");
    return;
  }
  std::vector<float> workspace(how == Gemm::avx512 ? xdense::kernels::gemm_workspace_floats + 16 : 0);
  // 64-byte aligned, as the kernels require.
  float* aligned = workspace.data() + (16 - reinterpret_cast<std::uintptr_t>(workspace.data()) / 4 % 16) % 16;
  const int lda = static_cast<int>(a.shape(1)), ldb = static_cast<int>(b.shape(1)), ldc = static_cast<int>(n);
  for (auto _ : state) {
    switch (how) {
      case Gemm::cblas:
        cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                    static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0f, a.data(), lda, b.data(), ldb,
                    0.0f, c.data(), ldc);
        break;
      case Gemm::xt_blas:
        xt::blas::gemm(a, b, c, trans_a, trans_b);
        break;
      case Gemm::avx512:
        xdense::kernels::sgemm_avx512(trans_a, trans_b, m, n, k, a.data(), b.data(), nullptr, false, c.data(),
                                      aligned);
        break;
      case Gemm::xt_blas_adapted: {
        const auto av =
            xt::adapt(a.data(), a.size(), xt::no_ownership(), std::array<std::size_t, 2>{a.shape(0), a.shape(1)});
        const auto bv =
            xt::adapt(b.data(), b.size(), xt::no_ownership(), std::array<std::size_t, 2>{b.shape(0), b.shape(1)});
        auto cv = xt::adapt(c.data(), c.size(), xt::no_ownership(), std::array<std::size_t, 2>{m, n});
        xt::blas::gemm(av, bv, cv, trans_a, trans_b);
        break;
      }
    }
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(m * n * k), benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}

struct DenseFixture {
  explicit DenseFixture(const benchmark::State& state)
      : batch(static_cast<std::size_t>(state.range(0))),
        layer(static_cast<std::size_t>(state.range(2)), static_cast<std::size_t>(state.range(1))),
        x(random_matrix(batch, static_cast<std::size_t>(state.range(1)), 0, 1, 4)),
        dy(random_matrix(batch, static_cast<std::size_t>(state.range(2)), -1e-3, 1e-3, 5)) {
    xdense::Rng rng(6);
    layer.build(static_cast<std::size_t>(state.range(1)), rng);
    layer.reserve(batch);
  }
  std::size_t batch;
  xdense::Dense layer;
  xdense::Matrix x, dy;
};

// y = x . W + b: the bias broadcast plus one sgemm.
void BM_DenseForward(benchmark::State& state) {
  DenseFixture f(state);
  for (auto _ : state) benchmark::DoNotOptimize(f.layer.forward(xdense::view(f.x)).data);
  state.counters["GFLOP/s"] =
      benchmark::Counter(gemm_flops(state), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_DenseForward)->Apply(layer_shapes);

// dW = x^T . dy, db = column sums of dy, dx = dy . W^T (two sgemms and a reduction).
void BM_DenseBackward(benchmark::State& state) {
  DenseFixture f(state);
  f.layer.forward(xdense::view(f.x));
  for (auto _ : state) benchmark::DoNotOptimize(f.layer.backward(xdense::view(f.dy), true).data);
  state.counters["GFLOP/s"] = benchmark::Counter(2 * gemm_flops(state), benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}
BENCHMARK(BM_DenseBackward)->Apply(layer_shapes);

// Every built-in activation, forward and backward, on a (batch, units) block.
struct ActivationFixture {
  ActivationFixture(const benchmark::State& state, const std::string& name)
      : rows(static_cast<std::size_t>(state.range(0))),
        cols(static_cast<std::size_t>(state.range(1))),
        activation(xdense::make_activation(name)),
        x(random_matrix(rows, cols, -4, 4, 7)),
        dy(random_matrix(rows, cols, -1, 1, 8)) {
    xdense::Rng rng(1);
    activation->build(cols, rng);
    activation->reserve(rows);
  }
  std::size_t rows, cols;
  std::unique_ptr<xdense::Activation> activation;
  xdense::Matrix x, dy;
};

void activation_forward(benchmark::State& state, const std::string& name) {
  ActivationFixture f(state, name);
  for (auto _ : state) benchmark::DoNotOptimize(f.activation->forward(xdense::view(f.x)).data);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * f.rows * f.cols));
}

void activation_backward(benchmark::State& state, const std::string& name) {
  ActivationFixture f(state, name);
  f.activation->forward(xdense::view(f.x));
  for (auto _ : state) benchmark::DoNotOptimize(f.activation->backward(xdense::view(f.dy), true).data);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * f.rows * f.cols));
}

// Softmax cross-entropy from logits with sparse labels, as Sequential computes it in a step.
void BM_SoftmaxCrossEntropyValue(benchmark::State& state) {
  const auto rows = static_cast<std::size_t>(state.range(0)), cols = static_cast<std::size_t>(state.range(1));
  const xdense::CategoricalCrossEntropy loss(true);
  const xdense::Matrix z = random_matrix(rows, cols, -4, 4, 9);
  xdense::Matrix y = xdense::Matrix::from_shape({rows, 1});
  for (std::size_t r = 0; r < rows; ++r) y(r, 0) = static_cast<float>(r % cols);
  for (auto _ : state) benchmark::DoNotOptimize(loss.value_from_logits(xdense::view(z), xdense::view(y)));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows * cols));
}
BENCHMARK(BM_SoftmaxCrossEntropyValue)->Args({128, 10});

void BM_SoftmaxCrossEntropyGradient(benchmark::State& state) {
  const auto rows = static_cast<std::size_t>(state.range(0)), cols = static_cast<std::size_t>(state.range(1));
  const xdense::CategoricalCrossEntropy loss(true);
  const xdense::Matrix z = random_matrix(rows, cols, -4, 4, 9);
  xdense::Matrix y = xdense::Matrix::from_shape({rows, 1}), grad = xdense::Matrix::from_shape({rows, cols});
  for (std::size_t r = 0; r < rows; ++r) y(r, 0) = static_cast<float>(r % cols);
  for (auto _ : state) {
    loss.gradient_from_logits(xdense::view(z), xdense::view(y), xdense::view(grad));
    benchmark::DoNotOptimize(grad.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows * cols));
}
BENCHMARK(BM_SoftmaxCrossEntropyGradient)->Args({128, 10});

// One Adam step over `n` parameters in one array: 235,146 is the MLP, 65 the tiny network.
void BM_AdamUpdate(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  xdense::Matrix w = random_matrix(1, n, -0.1, 0.1, 10), g = random_matrix(1, n, -1e-3, 1e-3, 11);
  const std::vector<xdense::Parameter> parameters{{"w", w.data(), g.data(), n}};
  xdense::Adam adam;
  for (auto _ : state) {
    adam.step(parameters);
    benchmark::DoNotOptimize(w.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_AdamUpdate)->Arg(65)->Arg(4096)->Arg(235146);

// Whole steps, for scale: the MLP at batch 128 and the tiny network at batch 32.
void train_step(benchmark::State& state, const std::vector<std::size_t>& units, const std::string& hidden,
                const std::string& output, const std::string& loss, std::size_t batch) {
  xdense::Sequential model(1);
  for (std::size_t l = 1; l < units.size(); ++l) {
    model.add(std::make_unique<xdense::Dense>(units[l])).add(l + 1 < units.size() ? hidden : output);
  }
  model.compile(loss, "adam");
  model.build(units.front());
  model.reserve(batch);
  const xdense::Matrix x = random_matrix(batch, units.front(), 0, 1, 12);
  xdense::Matrix y = xdense::Matrix::from_shape({batch, 1});
  for (std::size_t r = 0; r < batch; ++r) y(r, 0) = static_cast<float>(r % std::max<std::size_t>(units.back(), 2));
  for (auto _ : state) benchmark::DoNotOptimize(model.train_step(xdense::view(x), xdense::view(y)));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}

void BM_TrainStepMlp(benchmark::State& state) {
  train_step(state, {784, 256, 128, 10}, "relu", "softmax", "sparse_categorical_crossentropy", 128);
}
BENCHMARK(BM_TrainStepMlp);

void BM_TrainStepTiny(benchmark::State& state) {
  train_step(state, {2, 16, 1}, "sigmoid", "sigmoid", "binary_crossentropy", 32);
}
BENCHMARK(BM_TrainStepTiny);

// The MLP's large products at batch 128 (product 0, 1, 2 as above) and the 10,000-row forward
// product of predict(): OpenBLAS's active core against xdense's AVX-512 kernels.
void large_product_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"batch", "in", "out", "product"});
  for (std::int64_t product = 0; product < 3; ++product) {
    b->Args({128, 784, 256, product});
    b->Args({128, 256, 128, product});
  }
  b->Args({128, 128, 10, 0});
  b->Args({10000, 784, 256, 0});
  b->Args({10000, 256, 128, 0});
}

const bool products_registered = [] {
  benchmark::AddCustomContext("large products (Dense, train steps)", xdense::kernels::large_product_kernels());
  benchmark::RegisterBenchmark("BM_LargeProduct/openblas", product, Gemm::cblas)->Apply(large_product_shapes);
  benchmark::RegisterBenchmark("BM_LargeProduct/avx512", product, Gemm::avx512)->Apply(large_product_shapes);
  benchmark::RegisterBenchmark("BM_Product/cblas", product, Gemm::cblas)->Apply(product_shapes);
  benchmark::RegisterBenchmark("BM_Product/xt_blas", product, Gemm::xt_blas)->Apply(product_shapes);
  benchmark::RegisterBenchmark("BM_Product/xt_blas_adapted", product, Gemm::xt_blas_adapted)->Apply(product_shapes);
  return true;
}();

const bool activations_registered = [] {
  for (const std::string name : {"linear", "binary_step", "sigmoid", "tanh", "relu", "leaky_relu", "softmax"}) {
    benchmark::RegisterBenchmark(("BM_ActivationForward/" + name).c_str(), activation_forward, name)->Args({128, 256});
    benchmark::RegisterBenchmark(("BM_ActivationBackward/" + name).c_str(), activation_backward, name)
        ->Args({128, 256});
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
