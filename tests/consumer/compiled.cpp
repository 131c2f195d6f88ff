// Linked to onestone::compiled: the templates used here come from the installed library.
#include <cmath>
#include <iostream>
#include <onestone/onestone.hpp>

#ifndef ONESTONE_COMPILED
#error "onestone::compiled should define ONESTONE_COMPILED"
#endif

int main() {
  using namespace onestone;
  nn::Linear<float> fc(nn::LinearOptions(3, 2).seed(1));
  optim::Adam<float> opt(fc.parameters(), optim::AdamOptions(0.1));
  Tensor<float> x = Tensor<float>::from({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor<Index> y = Tensor<Index>::from({0, 1}, {2});
  float first = 0, last = 0;
  for (int step = 0; step < 20; ++step) {
    opt.zero_grad();
    Var<float> loss = losses::cross_entropy(fc.forward(Var<float>::from(x)), y);
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item();
  }
  std::cout << "compiled consumer: loss " << first << " -> " << last << "\n";
  return std::isfinite(last) && last < first ? 0 : 1;
}
