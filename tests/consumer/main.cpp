// Trains XOR through the installed library; exits 0 only if it learns it.
#include <iostream>
#include <memory>

#include <xdense/xdense.hpp>

int main() {
  xdense::Matrix x = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
  xdense::Matrix y = {{0}, {1}, {1}, {0}};
  xdense::Sequential model(1);
  model.add(std::make_unique<xdense::Dense>(8)).add("tanh");
  model.add(std::make_unique<xdense::Dense>(1)).add("sigmoid");
  xdense::AdamOptions adam;
  adam.learning_rate = 0.05f;
  model.compile(xdense::make_loss("binary_crossentropy"), std::make_unique<xdense::Adam>(adam));
  xdense::FitOptions options;
  options.epochs = 300;
  options.batch_size = 4;
  model.fit(x, y, options);
  const xdense::Evaluation result = model.evaluate(x, y);
  std::cout << model.summary() << "xor accuracy " << result.accuracy << "\n";
  return result.accuracy == 1.0 ? 0 : 1;
}
