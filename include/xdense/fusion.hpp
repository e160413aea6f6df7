#pragma once
/// \file
/// Capabilities an activation declares so that the layers and losses around it can fuse their
/// passes with it (one pass over the batch instead of two), without knowing its class.

namespace xdense {

/// A derivative f'(z) that is a function of the activation's output y = f(z) alone. An
/// activation declaring one lets the Dense layer after it apply the derivative as it stores its
/// input gradient (Dense::backward_through), which saves the activation's own backward pass.
/// Each formula is defined once (src/output_derivative.hpp) and used by both passes.
enum class OutputDerivative {
  none,     ///< not a function of y alone (or not declared)
  sigmoid,  ///< y (1 - y)
  tanh,     ///< 1 - y^2
  relu,     ///< 1 where y > 0, else 0
};

/// The probability an output activation computes from its logits, which a cross-entropy loss can
/// then compute from the logits directly (stable, one pass: Loss::fuses_with).
enum class ProbabilityOutput {
  none,     ///< not a probability link
  sigmoid,  ///< p = 1 / (1 + e^-z) per unit (binary cross-entropy)
  softmax,  ///< p = e^z_k / sum_j e^z_j per row (categorical cross-entropy)
};

}  // namespace xdense
