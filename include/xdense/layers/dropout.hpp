#pragma once
/// \file
/// Dropout: in training mode each input is zeroed with probability `rate` and the kept ones are
/// scaled by 1 / (1 - rate) (inverted dropout, as Keras and PyTorch), so inference needs no
/// rescaling; in inference mode (evaluate, predict) it is the identity.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "xdense/layer.hpp"

namespace xdense {

/// Inverted dropout, Keras's Dropout(rate, seed).
///   forward (training) : y = x * m,  m = 0 with probability rate, else 1 / (1 - rate)
///   backward (training): dx = dy * m (the same m)
///   inference          : y = x, dx = dy
///
/// The masks come from the layer's own random stream, a counter-based one: the keep decision for
/// element i (row-major in the batch) of the layer's n-th training forward pass is a hash of
/// (seed, n, i), so the stream's whole state is (seed, n) — Layer::training_state(), which a
/// checkpoint stores, so that a resumed run draws the masks an uninterrupted one would. The seed is
/// the config's "seed", or, when that is null (the default), drawn from the model's generator at
/// build(): a model seed gives the same masks every run.
class Dropout final : public Layer {
 public:
  /// `rate` in [0, 1) (0: the identity); `seed` nullopt draws it at build(). Throws InvalidArgument
  /// for a rate out of range.
  explicit Dropout(double rate, std::optional<std::uint64_t> seed = std::nullopt);

  std::string type_name() const override { return "Dropout"; }
  /// {"rate", "seed" (an integer, or null when drawn at build()), "noise_shape": null}; Keras's
  /// keys. make_layer("Dropout", config) also takes Keras's "name", "trainable": true and "dtype".
  Config config() const override;
  /// Another mask stream in each process of a data-parallel run (process 0: the stream of one process).
  void set_replica(std::size_t replica) override { replica_ = replica; }
  void build(std::size_t input_units, Rng& rng) override;
  bool built() const override { return built_; }
  std::size_t input_units() const override { return units_; }
  std::size_t output_units() const override { return units_; }
  void reserve(std::size_t rows) override;
  ConstMatrixView forward(ConstMatrixView x) override;
  ConstMatrixView backward(ConstMatrixView dy, bool need_input_gradient = true) override;
  /// Same width, no arrays.
  std::optional<LayerShape> shape_for(std::size_t input_units) const override;
  /// The identity at inference: writes no node and returns `input`.
  std::string to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const override;

  /// {"seed": s, "draws": n}: the stream's seed and the number of masks drawn so far.
  Config training_state() const override;
  /// Takes what training_state() gave; InvalidArgument for anything else or before build().
  void restore_training_state(const Config& state) override;

  double rate() const { return rate_; }
  /// The seed of the mask stream: the config's, or the one drawn at build() (none before).
  std::optional<std::uint64_t> seed() const { return built_ ? std::optional<std::uint64_t>(seed_) : seed_option_; }
  /// Masks drawn so far (training forward passes with rate > 0).
  std::uint64_t draws() const { return draws_; }

 private:
  double rate_;
  std::optional<std::uint64_t> seed_option_;
  std::uint64_t seed_ = 0;
  std::uint64_t draws_ = 0;
  std::uint64_t replica_ = 0;  // data-parallel process index (set_replica)
  std::uint32_t threshold_ = 0;  // an element is kept when its 32-bit hash is >= threshold_
  float scale_ = 1.0f;           // 1 / (1 - rate)
  std::size_t units_ = 0;
  std::size_t last_rows_ = 0;  // rows of the last forward(), for backward's check
  bool built_ = false;
  bool masked_ = false;  // whether the last forward() applied a mask (training mode, rate > 0)
  BatchBuffer mask_;     // m of the last training forward(): 0 or scale_
  BatchBuffer output_;
  BatchBuffer input_gradient_;
};

}  // namespace xdense
