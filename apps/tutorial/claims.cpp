// The tutorial's claims, judged from this run's numbers. Every verdict is decided by
// the thresholds below and every sentence quotes the measurement it rests on; nothing
// here is written in advance of the run.

#include <algorithm>
#include <cmath>
#include <limits>

#include "tutorial.hpp"

namespace xdense::cli::tutorial {
namespace {

// --- thresholds -------------------------------------------------------------------------
constexpr double chance = 0.5;                // two balanced classes
constexpr double near_chance_below = 0.65;    // circles accuracy under this: the boundary was not learned
constexpr double learned_from = 0.9;          // circles accuracy from this on: it was
constexpr double vanished_below = 1e-2;       // first-layer / output-layer gradient norm under this: vanished
constexpr double dying_from = 0.2;            // share of ReLU units dead after training that counts as dying
constexpr double exact_to = 1e-5;             // sums to 1, odd symmetry, folded linear map: equal to within this
constexpr double baseline_error_share = 0.5;  // a classifier "works" when its error is at most half the majority baseline's

std::string accuracy(double a) { return fixed(a, 3); }

std::string sci(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1e", v);
  return text;
}

std::string epochs_text(std::size_t epochs) {
  return epochs == 0 ? "never within the budget" : "after " + std::to_string(epochs) + " epoch" + (epochs == 1 ? "" : "s");
}

// Epochs to 90% as a comparable number: "never" is worse than any count.
double epochs_rank(std::size_t epochs) {
  return epochs == 0 ? std::numeric_limits<double>::infinity() : static_cast<double>(epochs);
}

float value_at(const ValuesResult& v, const std::string& name, double x) {
  const auto i = static_cast<std::size_t>(std::lround(x * 100.0) + 500);
  return v.curve(name).value[i];
}

// max |f(x) + f(-x) - offset| over the grid: 0 for an odd function when offset = 0.
double symmetry_error(const ValuesResult& v, const std::string& name, double offset) {
  const auto& f = v.curve(name).value;
  double worst = 0.0;
  for (std::size_t i = 0; i < f.size(); ++i) worst = std::max(worst, std::abs(f[i] + f[f.size() - 1 - i] - offset));
  return worst;
}

bool beats_baseline(const ClassifierResult& c) {
  return 1.0 - c.test.accuracy <= baseline_error_share * (1.0 - c.majority_baseline);
}

const ClassifierResult* find_classifier(const RunResults& r, const std::string& key) {
  if (r.classifiers == nullptr) return nullptr;
  for (const auto& c : *r.classifiers) {
    if (c.key == key) return &c;
  }
  return nullptr;
}

std::string classifier_sentence(const ClassifierResult& c) {
  return "on " + std::to_string(c.test.samples) + " test samples of " + c.task.dataset + " it reached accuracy " +
         accuracy(c.test.accuracy) + " (always predicting the most frequent class: " + accuracy(c.majority_baseline) +
         "; test loss " + fixed(c.test.loss, 3) + ")";
}

// --- the claims ---------------------------------------------------------------------------

void nonlinearity(const RunResults& r, Claim& c) {
  const ShootoutResult& s = *r.shootout;
  const CirclesRun& linear = s.circles_run("linear");
  double low = 1.0, high = 0.0;
  std::string weakest;
  for (const char* name : {"sigmoid", "tanh", "relu", "leaky_relu"}) {
    const double a = s.circles_run(name).test_accuracy;
    if (a < low) weakest = name;
    low = std::min(low, a);
    high = std::max(high, a);
  }
  const bool collapses = linear.collapse_error <= exact_to * std::max(1.0, linear.logit_scale);
  c.evidence = "circles test accuracy: linear " + accuracy(linear.test_accuracy) + " vs " + accuracy(low) + "-" +
               accuracy(high) + " with sigmoid/tanh/ReLU/leaky ReLU";
  c.paragraph = "With linear hidden layers the network reached a test accuracy of " + accuracy(linear.test_accuracy) +
                " on the two circles (chance: " + fixed(chance, 1) + "); the same network, seed and budget reached " +
                accuracy(low) + " to " + accuracy(high) + " with sigmoid, tanh, ReLU or leaky ReLU hidden layers. " +
                "Folding the linear network's Dense layers into a single matrix and bias reproduces its outputs to within " +
                sci(linear.collapse_error) + " (largest output " + fixed(linear.logit_scale, 3) + ")" +
                (collapses ? ": the whole stack is one linear map, so its decision boundary is a straight line, which "
                             "cannot enclose the inner circle."
                           : ", which is NOT an exact collapse: this contradicts the algebra and points to a bug.");
  if (!collapses || linear.test_accuracy >= near_chance_below) {
    c.verdict = Verdict::contradicted;
    if (linear.test_accuracy >= near_chance_below) {
      c.paragraph += " The linear network scored well above chance, which a straight boundary cannot do on these data.";
    }
  } else if (low >= learned_from) {
    c.verdict = Verdict::supported;
  } else {
    c.verdict = Verdict::nuanced;
    c.paragraph += " Not every non-linear activation learned the boundary within the budget, though: " + weakest +
                   " stayed at " + accuracy(low) + ".";
  }
}

void binary_step(const RunResults& r, Claim& c) {
  const ShootoutResult& s = *r.shootout;
  const CirclesRun& step = s.circles_run("binary_step");
  const CirclesRun& ste = s.circles_run("binary_step(ste)");
  const DeepRun& deep = s.deep_run("binary_step");
  double below_output = 0.0;
  for (std::size_t l = 0; l + 1 < deep.gradient_norm.size(); ++l) below_output = std::max(below_output, deep.gradient_norm[l]);
  c.evidence = "circles test accuracy " + accuracy(step.test_accuracy) + ", hidden weights moved " +
               number(step.hidden_weight_change) + "; with the straight-through estimator " + accuracy(ste.test_accuracy);
  c.paragraph = "Trained by plain backpropagation, the binary-step network reached " + accuracy(step.test_accuracy) +
                " on the circles (chance: " + fixed(chance, 1) + "). Its hidden weights moved by " +
                number(step.hidden_weight_change) + " relative to their initial values, and in the deep network the largest "
                "gradient norm below the output layer was " + number(below_output) +
                (step.hidden_weight_change == 0.0
                     ? ": no gradient crosses a step, so only the output layer learned, on top of fixed random thresholds."
                     : ": some gradient did reach the hidden layers, which the step's zero derivative should prevent.");
  c.paragraph += " With the straight-through estimator (the backward pass treats the step as hard-tanh, gradient 1 "
                 "where |x| <= 1) the same network reached " + accuracy(ste.test_accuracy) + " (90% validation accuracy " +
                 epochs_text(ste.epochs_to_90) + "), its hidden weights moving by " +
                 number(ste.hidden_weight_change) + (ste.test_accuracy >= learned_from
                                                         ? ": the estimator makes the step trainable."
                                                         : ": the estimator helps, but did not learn the boundary fully.");
  if (step.hidden_weight_change != 0.0) {
    c.verdict = Verdict::contradicted;
  } else if (step.test_accuracy < near_chance_below) {
    c.verdict = Verdict::supported;
  } else {
    c.verdict = Verdict::nuanced;
    c.paragraph += " The hidden layers did not learn, yet the output layer alone did better than chance on the "
                   "random step features.";
  }
}

void sigmoid_output(const RunResults& r, Claim& c) {
  const ClassifierResult* binary = find_classifier(r, "binary");
  const bool valid = binary->output_min >= 0.0 && binary->output_max <= 1.0;
  c.evidence = "test accuracy " + accuracy(binary->test.accuracy) + " vs majority baseline " +
               accuracy(binary->majority_baseline) + "; outputs in [" + fixed(binary->output_min, 4) + ", " +
               fixed(binary->output_max, 4) + "]";
  c.paragraph = "The binary classifier ends in one sigmoid unit read as the probability of '" +
                binary->task.class_names[1] + "'; " + classifier_sentence(*binary) + ". Its outputs on the test set " +
                "ranged over [" + fixed(binary->output_min, 4) + ", " + fixed(binary->output_max, 4) + "]" +
                (valid ? ", valid probabilities" : ", outside [0, 1]") +
                (binary->output_min == 0.0 || binary->output_max == 1.0
                     ? " (the most confident outputs round to exactly 0 or 1 in float32: the open interval is "
                       "closed in practice)."
                     : ".");
  if (!valid || binary->test.accuracy <= binary->majority_baseline) {
    c.verdict = Verdict::contradicted;
  } else if (beats_baseline(*binary)) {
    c.verdict = Verdict::supported;
    c.paragraph += " Its error rate is at most half the baseline's: the sigmoid output does the job.";
  } else {
    c.verdict = Verdict::nuanced;
    c.paragraph += " It beats the baseline, but by less than half its error rate: a weak classifier on this task.";
  }
}

void tanh_centred(const RunResults& r, Claim& c) {
  const ValuesResult& v = *r.values;
  const double odd = symmetry_error(v, "tanh", 0.0);
  const double sigmoid_mirror = symmetry_error(v, "sigmoid", 1.0);
  c.evidence = "tanh(-5) = " + fixed(value_at(v, "tanh", -5), 4) + ", sigmoid(-5) = " +
               fixed(value_at(v, "sigmoid", -5), 4) + "; max |tanh(x) + tanh(-x)| = " + sci(odd);
  c.paragraph = "On the grid, tanh(-x) = -tanh(x) to within " + sci(odd) +
                ", so its outputs are centred on 0, while sigmoid is centred on 0.5 (sigmoid(-x) = 1 - sigmoid(x) to "
                "within " + sci(sigmoid_mirror) + "). A strongly negative input stays strongly negative through tanh: "
                "tanh(-5) = " + fixed(value_at(v, "tanh", -5), 4) + ", against sigmoid(-5) = " +
                fixed(value_at(v, "sigmoid", -5), 4) + ".";
  if (odd > exact_to) {
    c.verdict = Verdict::contradicted;
    return;
  }
  c.verdict = Verdict::supported;
  if (r.shootout == nullptr) return;
  const CirclesRun& t = r.shootout->circles_run("tanh");
  const CirclesRun& s = r.shootout->circles_run("sigmoid");
  c.paragraph += " In the circles network the first hidden layer's mean output was " + fixed(t.mean_hidden_output, 3) +
                 " with tanh and " + fixed(s.mean_hidden_output, 3) + " with sigmoid; tanh reached 90% validation "
                 "accuracy " + epochs_text(t.epochs_to_90) + ", sigmoid " + epochs_text(s.epochs_to_90) + ".";
  const bool centred = std::abs(t.mean_hidden_output) < std::abs(s.mean_hidden_output);
  const bool faster = epochs_rank(t.epochs_to_90) <= epochs_rank(s.epochs_to_90);
  if (!centred || !faster) {
    c.verdict = Verdict::nuanced;
    c.paragraph += centred ? " The zero-centred outputs did not make tanh train faster here."
                           : " In the trained network, tanh's outputs were not closer to 0 than sigmoid's.";
  } else {
    c.paragraph += " Tanh also trained faster than sigmoid here.";
  }
}

void vanishing(const RunResults& r, Claim& c) {
  const ShootoutResult& s = *r.shootout;
  auto ratio = [&](const std::string& name) {
    const auto& g = s.deep_run(name).gradient_norm;
    return g.front() / g.back();
  };
  const double sig = ratio("sigmoid"), tanh = ratio("tanh"), relu = ratio("relu"), leaky = ratio("leaky_relu");
  const bool sigmoid_vanishes = sig < vanished_below, tanh_vanishes = tanh < vanished_below;
  const bool relu_vanishes = relu < vanished_below;
  const double layers = static_cast<double>(s.deep_run("sigmoid").gradient_norm.size() - 1);
  c.evidence = "first-layer / output-layer gradient norm: sigmoid " + sci(sig) + ", tanh " + sci(tanh) + ", ReLU " +
               sci(relu) + ", leaky ReLU " + sci(leaky);
  c.paragraph = "In the deep network (" + std::to_string(s.deep_hidden_layers) + " hidden layers), the gradient "
                "reaching the first layer during the first epoch was " + sci(sig) + " of the output layer's with "
                "sigmoid, " + sci(tanh) + " with tanh, " + sci(relu) + " with ReLU and " + sci(leaky) +
                " with leaky ReLU (vanished: below " + sci(vanished_below) + ").";
  const double sig_slope = s.deep_run("sigmoid").mean_derivative, tanh_slope = s.deep_run("tanh").mean_derivative;
  if (sigmoid_vanishes) {
    c.paragraph += " Through sigmoid the gradient shrank by a factor of about " + fixed(std::pow(sig, -1.0 / layers), 1) +
                   " per layer: at initialisation its hidden units' mean derivative was " + fixed(sig_slope, 3) +
                   " (it is never above 0.25), and each layer multiplies the gradient by it.";
  }
  if (!tanh_vanishes) {
    c.paragraph += " Tanh did not show it here: at initialisation its hidden units' mean derivative was " +
                   fixed(tanh_slope, 3) + " (Glorot-uniform weights keep the inputs near 0, where tanh' is close to 1), "
                   "so gradients passed through " + std::to_string(s.deep_hidden_layers) + " layers almost intact.";
  }
  c.paragraph += " After training, test accuracy was " + accuracy(s.deep_run("sigmoid").test_accuracy) + " (sigmoid), " +
                 accuracy(s.deep_run("tanh").test_accuracy) + " (tanh), " + accuracy(s.deep_run("relu").test_accuracy) +
                 " (ReLU).";
  if (relu_vanishes || (!sigmoid_vanishes && !tanh_vanishes)) {
    c.verdict = Verdict::contradicted;
  } else if (sigmoid_vanishes && tanh_vanishes) {
    c.verdict = Verdict::supported;
  } else {
    c.verdict = Verdict::nuanced;
    c.paragraph += std::string(" So: ReLU avoids it, but of the saturating functions only ") +
                   (sigmoid_vanishes ? "sigmoid" : "tanh") + " suffered it in this network.";
  }
}

void dying_relu(const RunResults& r, Claim& c) {
  const auto& runs = r.shootout->dying;
  const DyingRun& relu = runs[runs.size() - 2];
  const DyingRun& leaky = runs.back();
  const DyingRun& relu_default = runs.front();
  const double share = static_cast<double>(relu.after.zero_output) / static_cast<double>(relu.units);
  auto count = [](std::size_t n, const DyingRun& d) { return std::to_string(n) + "/" + std::to_string(d.units); };
  c.evidence = "at learning rate " + number(relu.learning_rate) + ": ReLU " + count(relu.after.zero_output, relu) +
               " units dead, leaky ReLU " + count(leaky.after.zero_output, leaky);
  c.paragraph = "After training with Adam at learning rate " + number(relu.learning_rate) + ", " +
                count(relu.after.zero_output, relu) + " ReLU units (" + fixed(100.0 * share, 0) +
                "%) output 0 for every training sample, so no gradient reaches their weights (" +
                std::to_string(relu.before.zero_output) + " were silent at initialisation; after training at " +
                number(relu_default.learning_rate) + ", " + std::to_string(relu_default.after.zero_output) + ")";
  c.paragraph += relu_default.after.zero_output < relu_default.before.zero_output
                     ? ". Dead is not always final: a unit of the second hidden layer comes back when the layer below it "
                       "changes, as some did at the small learning rate."
                     : ".";
  c.paragraph += " With leaky ReLU, " + count(leaky.after.zero_output, leaky) + " units output 0 everywhere; " +
                 std::to_string(leaky.after.negative_input) +
                 " sit on the negative side for every sample but still pass a gradient of slope 0.3. Test accuracy: "
                 "ReLU " + accuracy(relu.test_accuracy) + ", leaky ReLU " + accuracy(leaky.test_accuracy) + ".";
  if (!relu.stopped.empty() || !leaky.stopped.empty()) c.paragraph += " (Training stopped early: " + relu.stopped + leaky.stopped + ".)";
  if (leaky.after.zero_output > 0) {
    c.verdict = Verdict::contradicted;
  } else if (share >= dying_from) {
    c.verdict = Verdict::supported;
    if (relu.test_accuracy >= learned_from) {
      c.paragraph += " On this easy task the surviving ReLU units were still enough: dying costs capacity first, accuracy later.";
    } else if (leaky.test_accuracy >= learned_from) {
      c.paragraph += " With so few live units the ReLU network lost the boundary, while the leaky ReLU network kept it.";
    }
  } else {
    c.verdict = Verdict::nuanced;
    c.paragraph += " Dying was not reproduced at these learning rates (fewer than " + fixed(100.0 * dying_from, 0) +
                   "% of the ReLU units died), so the fix had little to fix here.";
  }
}

void softmax(const RunResults& r, Claim& c) {
  const ClassifierResult* multi = find_classifier(r, "multiclass");
  const auto& scores = r.values->softmax_scores;
  const auto& p = r.values->softmax_probabilities;
  double sum = 0.0;
  bool order_kept = true;
  for (std::size_t i = 0; i < p.size(); ++i) {
    sum += p[i];
    for (std::size_t j = 0; j < p.size(); ++j) order_kept = order_kept && ((scores[i] < scores[j]) == (p[i] < p[j]));
  }
  bool sums = std::abs(sum - 1.0) <= exact_to;
  c.evidence = "example sums to " + fixed(sum, 6);
  c.paragraph = "The scores (" + fixed(scores[0], 1) + ", " + fixed(scores[1], 1) + ", " + fixed(scores[2], 1) +
                ") become probabilities (" + fixed(p[0], 3) + ", " + fixed(p[1], 3) + ", " + fixed(p[2], 3) +
                "), summing to " + fixed(sum, 6) +
                (order_kept ? "; the larger the score, the larger the probability. "
                            : "; but the probabilities do not keep the scores' order. ");
  if (multi != nullptr) {
    sums = sums && multi->max_sum_error <= exact_to;
    c.evidence += std::string(c.evidence.empty() ? "" : "; ") + "classifier test accuracy " +
                  accuracy(multi->test.accuracy) + " over " + std::to_string(multi->task.class_names.size()) + " classes";
    c.paragraph += "The multi-class classifier ends in a " + std::to_string(multi->task.class_names.size()) +
                   "-way softmax; " + classifier_sentence(*multi) + ", and every test row's probabilities summed to 1 "
                   "within " + sci(multi->max_sum_error) + ".";
  }
  if (!sums || !order_kept || (multi != nullptr && multi->test.accuracy <= multi->majority_baseline)) {
    c.verdict = Verdict::contradicted;
  } else if (multi != nullptr && !beats_baseline(*multi)) {
    c.verdict = Verdict::nuanced;
    c.paragraph += " The classifier beats the baseline, but by less than half its error rate.";
  } else {
    c.verdict = Verdict::supported;
  }
}

void ranges(const RunResults& r, Claim& c) {
  struct Check {
    const char* name;
    bool (*holds)(float lo, float hi);
  };
  const Check checks[] = {
      {"linear", [](float lo, float hi) { return lo < 0.0f && hi > 0.0f; }},
      {"binary_step", [](float lo, float hi) { return lo == 0.0f && hi == 1.0f; }},
      {"sigmoid", [](float lo, float hi) { return lo > 0.0f && hi < 1.0f; }},
      {"tanh", [](float lo, float hi) { return lo > -1.0f && hi < 1.0f; }},
      {"relu", [](float lo, float hi) { return lo == 0.0f && hi > 0.0f; }},
      {"leaky_relu", [](float lo, float hi) { return lo < 0.0f && hi > 0.0f; }},
  };
  std::vector<std::string> failing;
  bool step_binary = true;
  for (float y : r.values->curve("binary_step").value) step_binary = step_binary && (y == 0.0f || y == 1.0f);
  std::string observed;
  for (const Check& check : checks) {
    const auto& y = r.values->curve(check.name).value;
    const auto [lo, hi] = std::minmax_element(y.begin(), y.end());
    observed += std::string(observed.empty() ? "" : ", ") + check.name + " [" + number(*lo) + ", " + number(*hi) + "]";
    if (!check.holds(*lo, *hi)) failing.push_back(check.name);
  }
  if (!step_binary) failing.push_back("binary_step (a value other than 0 or 1)");
  c.evidence = failing.empty() ? "all six consistent on [-5, 5]" : std::to_string(failing.size()) + " inconsistent";
  c.paragraph = "Smallest and largest values on the grid x in [-5, 5]: " + observed + ". ";
  if (failing.empty()) {
    c.verdict = Verdict::supported;
    c.paragraph += "Each lies inside the stated range, the step takes only the values 0 and 1, and the open ends of "
                   "sigmoid and tanh are not reached on this grid.";
  } else {
    c.verdict = Verdict::contradicted;
    std::string names;
    for (const auto& f : failing) names += (names.empty() ? "" : ", ") + f;
    c.paragraph += "Outside the stated range: " + names + ".";
  }
}

}  // namespace

std::string verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::supported: return "supported";
    case Verdict::nuanced: return "nuanced";
    case Verdict::contradicted: return "contradicted";
    case Verdict::not_tested: return "not tested";
  }
  return "not tested";
}

std::vector<Claim> assess_claims(const RunResults& results) {
  // The claims, what each needs from the run (values V, classifiers C, shoot-out S; a judge
  // also uses any other part that ran), and the function that judges it.
  struct Spec {
    const char* title;
    const char* statement;
    const char* needs;
    void (*judge)(const RunResults&, Claim&);
  };
  static const Spec specs[] = {
      {"Non-linearity", "Activation functions make a network non-linear; stacking linear layers stays linear.", "S",
       nonlinearity},
      {"Binary step",
       "A binary step decides whether a neuron fires; its gradient is zero, so it cannot be trained by "
       "backpropagation (the tutorial writes it as a custom op).",
       "S", binary_step},
      {"Sigmoid output", "Sigmoid squashes its input to (0, 1): the usual output of a binary classifier.", "C",
       sigmoid_output},
      {"Tanh is zero-centred",
       "Tanh squashes to (-1, 1) and is zero-centred, so strongly negative inputs stay strongly negative (unlike "
       "sigmoid).",
       "V", tanh_centred},
      {"ReLU vs vanishing gradients",
       "ReLU avoids the vanishing gradient that saturating functions (sigmoid, tanh) suffer in deep networks.", "S",
       vanishing},
      {"Leaky ReLU vs dying ReLU", "Leaky ReLU's small negative slope fixes \"dying ReLU\" units.", "S", dying_relu},
      {"Softmax",
       "Softmax turns a vector of scores into probabilities that sum to 1; it is the last layer of multi-class "
       "classifiers.",
       "V", softmax},
      {"Ranges",
       "Ranges: linear (-inf, inf), binary step {0, 1}, sigmoid (0, 1), tanh (-1, 1), ReLU [0, inf), leaky ReLU "
       "(-inf, inf).",
       "V", ranges},
  };
  const std::pair<char, const char*> parts[] = {{'V', "values"}, {'C', "classifiers"}, {'S', "shootout"}};
  auto ran = [&](char part) {
    return part == 'V' ? results.values != nullptr
                       : part == 'C' ? results.classifiers != nullptr : results.shootout != nullptr;
  };
  std::vector<Claim> claims;
  for (const Spec& spec : specs) {
    Claim c;
    c.title = spec.title;
    c.statement = spec.statement;
    std::string missing;
    for (const auto& [part, name] : parts) {
      if (std::string(spec.needs).find(part) != std::string::npos && !ran(part)) missing = name;
    }
    if (missing.empty()) {
      spec.judge(results, c);
    } else {
      c.evidence = "part '" + missing + "' was not run";
      c.paragraph = "Not tested in this run: `--only` left out the " + missing + " part.";
    }
    claims.push_back(std::move(c));
  }
  return claims;
}

}  // namespace xdense::cli::tutorial
