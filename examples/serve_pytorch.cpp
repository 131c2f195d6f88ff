// serve_pytorch: load weights trained in PyTorch (a safetensors state dict) into a multi-task
// model by name, serve predictions, and export the weights back with PyTorch's names.
// docs/pytorch.md walks through it.
//
//   ./serve_pytorch [--weights FILE] [--expected FILE] [--export FILE]
//
// Defaults: the fixture tests/fixtures/pytorch_model.safetensors (the state dict of the
// PyTorch `Net` in docs/pytorch.md) and its recorded outputs pytorch_expected.safetensors.
#include <cmath>
#include <iostream>
#include <onestone/onestone.hpp>

#include "common/args.hpp"

using namespace onestone;

int main(int argc, char** argv) {
  examples::Args args(argc, argv,
                      "Loads a PyTorch state dict (safetensors) into a multi-task model by name, "
                      "checks its predictions\nagainst PyTorch's and exports the weights back with "
                      "PyTorch's names.");
  const std::string fixtures = std::string(ONESTONE_SOURCE_DIR) + "/tests/fixtures/";
  const std::string weights = args.get("--weights FILE", fixtures + "pytorch_model.safetensors",
                                       "the PyTorch state dict to load");
  const std::string expected =
      args.get("--expected FILE", fixtures + "pytorch_expected.safetensors",
               "inputs and PyTorch's outputs to compare with");
  const std::string exported =
      args.get("--export FILE", "", "write the weights back with PyTorch's names");
  args.finish();

  // 1. The same architecture as the PyTorch Net: trunk 6 → 16 → 8 (ReLU), heads "a" and "b".
  auto trunk = std::make_shared<nn::MLP<float>>(nn::MLPOptions({6, 16, 8}));
  MultiTaskModel<float> model(std::make_shared<sharing::HardSharing<float>>(trunk, 8));
  model.add_task(
      TaskOptions<float>("a").head(std::make_shared<nn::Linear<float>>(nn::LinearOptions(8, 3))));
  model.add_task(
      TaskOptions<float>("b").head(std::make_shared<nn::Linear<float>>(nn::LinearOptions(8, 1))));

  // 2. PyTorch's names → ours: "trunk.*" is "strategy.trunk.*" here; the heads match.
  const auto names =
      io::NameMap().prefix("trunk.", "strategy.trunk.").ignore_suffix("num_batches_tracked");
  const auto report = io::load_state_dict(model, weights, io::StateDictOptions().names(names));
  std::cout << "loaded " << report.loaded.size() << " tensors from " << weights << "\n";

  // 3. Serve: predict() keeps no graph and may be called from several threads at once.
  const auto ref = io::read_safetensors(expected);
  const Tensor<float> x = io::to_tensor<float>(ref.at("x"));
  const std::vector<Tensor<float>> out = model.predict(x);
  double worst = 0;
  for (int t = 0; t < 2; ++t) {
    const Tensor<double> want = io::to_tensor<double>(ref.at(t == 0 ? "a" : "b"));
    for (Index k = 0; k < want.numel(); ++k)
      worst = std::max(
          worst, std::abs(static_cast<double>(out[static_cast<std::size_t>(t)][k]) - want[k]));
  }
  std::cout << "largest difference from PyTorch's outputs: " << worst << "\n";
  if (!(worst < 1e-5)) {
    std::cerr << "serve_pytorch: outputs differ from the recorded PyTorch outputs\n";
    return 1;
  }

  // 4. Export with PyTorch's names (net.load_state_dict(load_file(path)) reads it).
  if (!exported.empty()) {
    io::save_state_dict(model, exported, names);
    std::cout << "wrote " << exported << "\n";
  }
  return 0;
}
