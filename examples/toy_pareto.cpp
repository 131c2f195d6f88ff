// toy_pareto: the two-objective toy problem of the CAGrad (Liu et al. 2021) and Nash-MTL
// (Navon et al. 2022) papers, optimised by every balancing method from the same five start
// points with Adam. Writes the trajectories as CSV and, when gnuplot is installed, a PNG.
//
// Methods that read loss values (GLS, FAMO, DB-MTL, MGDA's loss normalisations, ...) need
// positive losses, so both objectives are shifted by --offset (default 25); the gradients, and
// so every purely gradient-based method, are unaffected.
//
//   ./toy_pareto [--steps 25000] [--lr 0.001] [--scale 0.1] [--offset 25] [--every 100]
//                [--methods equal,mgda,...] [--csv toy_pareto.csv] [--png toy_pareto.png]
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <onestone/onestone.hpp>
#include <onestone/weighting/registry.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/args.hpp"

using namespace onestone;

namespace {
// clamp(u, lo) from differentiable ops. Like torch.clamp, the gradient passes at u == lo
// (relu's does not at 0), which matters at the start point (0, 0) where tanh(x2/2) is exactly 0.
Var<double> clamp_min(const Var<double>& u, double lo) {
  const double tiny = 1e-12;
  return relu(u - (lo - tiny)) + (lo - tiny);
}

// The toy objectives: each a tanh-gated blend of a log part and a quadratic part (f1 scaled).
void objectives(const Var<double>& x, double scale, double offset, Var<double>& f1,
                Var<double>& f2) {
  const double lower = 5e-6;
  Var<double> x1 = narrow(x, -1, 0, 1), x2 = narrow(x, -1, 1, 1);
  Var<double> t = tanh(-x2);
  Var<double> l1 = log(clamp_min(abs((-x1 - 7.0) * 0.5 - t), lower)) + 6.0;
  Var<double> l2 = log(clamp_min(abs((3.0 - x1) * 0.5 + t + 2.0), lower)) + 6.0;
  Var<double> c1 = clamp_min(tanh(x2 * 0.5), 0.0);
  Var<double> q1 = (square(7.0 - x1) + square(-x2 - 8.0) * 0.1) / 10.0 - 20.0;
  Var<double> q2 = (square(-x1 - 7.0) + square(-x2 - 8.0) * 0.1) / 10.0 - 20.0;
  Var<double> c2 = clamp_min(tanh(x2 * -0.5), 0.0);
  f1 = (l1 * c1 + q1 * c2) * scale + offset;
  f2 = l2 * c1 + q2 * c2 + offset;
}

}  // namespace

int main(int argc, char** argv) {
  examples::Args args(argc, argv,
                      "The two-objective toy problem of the CAGrad and Nash-MTL papers, optimised "
                      "by every balancing\nmethod from five start points with Adam; writes the "
                      "trajectories as CSV and, with gnuplot, a PNG.");
  const long steps = args.get_int("--steps", 25000, "Adam steps per start point");
  const double lr = args.get_double("--lr", 1e-3, "Adam learning rate");
  const double scale = args.get_double("--scale", 0.1, "scale of the objectives");
  const double offset =
      args.get_double("--offset", 25.0, "added to both objectives (keeps losses positive)");
  const long every = args.get_int("--every", 100, "record a point every N steps");
  const std::string csv_path =
      args.get("--csv FILE", "toy_pareto.csv", "where the trajectories are written");
  const std::string png_path =
      args.get("--png FILE", "toy_pareto.png", "the chart (when gnuplot is installed)");
  const std::string method_list =
      args.get("--methods LIST", "", "comma-separated balancing methods (default: all)");
  args.finish();
  std::vector<std::string> methods = weighting::balancer_names();
  if (!method_list.empty()) methods = examples::split_list(method_list);
  const double starts[5][2] = {{-8.5, 7.5}, {0.0, 0.0}, {9.0, 9.0}, {-7.5, -0.5}, {9.0, -1.0}};

  std::ofstream csv(csv_path);
  if (!csv) {
    std::cerr << "toy_pareto: cannot write " << csv_path << "\n";
    return 2;
  }
  csv << "method,start,step,x1,x2,f1,f2\n";
  auto& tape = autograd::Tape<double>::current();
  for (const auto& name : methods) {
    std::printf("%-12s", name.c_str());
    for (int s = 0; s < 5; ++s) {
      auto b = weighting::make_balancer<double>(name, 1);
      b->reset(2);
      nn::Parameter<double> x(Tensor<double>::from({starts[s][0], starts[s][1]}, {2}));
      std::vector<nn::Parameter<double>*> params{&x};
      for (auto* p : b->parameters()) params.push_back(p);
      optim::Adam<double> opt(params, optim::AdamOptions(lr));
      weighting::Jacobian<double> J(2, 2);
      weighting::Vector<double> losses(2), d;
      Var<double> f1, f2;
      for (long k = 0; k <= steps; ++k) {
        tape.reset();
        opt.zero_grad();
        objectives(reshape(x.var(), Shape{1, 2}), scale, offset, f1, f2);
        losses << f1.item(), f2.item();
        if (k % every == 0 || k == steps)
          csv << name << ',' << s << ',' << k << ',' << x.value()[0] << ',' << x.value()[1] << ','
              << losses[0] << ',' << losses[1] << '\n';
        if (k == steps) break;
        if (!b->needs_gradients()) {
          b->combine_losses({f1, f2}).backward();
        } else {
          f1.backward();
          J.row(0) = x.grad().vector().transpose();
          x.zero_grad();
          f2.backward();
          J.row(1) = x.grad().vector().transpose();
          b->combine_gradients(J, losses, d);
          x.grad().vector() = d;
        }
        opt.step();
        if (b->wants_loss_after_step()) {
          tape.reset();
          NoGradGuard ng;
          objectives(reshape(x.var(), Shape{1, 2}), scale, offset, f1, f2);
          weighting::Vector<double> after(2);
          after << f1.item(), f2.item();
          weighting::StepInfo<double> info;
          info.rows = 2;
          b->after_step(after, info);
        }
      }
      std::printf("  (%6.2f, %6.2f)", x.value()[0], x.value()[1]);
    }
    std::printf("\n");
  }
  csv.close();
  std::printf("wrote %s (columns method,start,step,x1,x2,f1,f2)\n", csv_path.c_str());

  if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) {
    std::printf("gnuplot is not installed: no plot (apt-get install gnuplot-nox, then re-run)\n");
    return 0;
  }
  const std::string script = png_path + ".gp";
  std::ofstream gp(script);
  const int cols = 5, rows = static_cast<int>((methods.size() + cols - 1) / cols);
  gp << "set terminal pngcairo size " << 300 * cols << "," << 280 * rows << " font ',8'\n"
     << "set output '" << png_path << "'\nset datafile separator ','\n"
     << "set multiplot layout " << rows << "," << cols
     << "\nset xrange [-10:10]\nset yrange [-10:10]\n"
     << "unset key\n";
  for (const auto& name : methods) {
    gp << "set title '" << name << "' noenhanced\nplot ";
    for (int s = 0; s < 5; ++s)
      gp << (s ? ", " : "") << "'" << csv_path << "' using (strcol(1) eq '" << name
         << "' && $2 == " << s << " ? $4 : 1/0):5 with lines lw 1.5";
    gp << ", '-' with points pt 7 ps 0.8 lc 'black'\n";
    for (auto& st : starts) gp << st[0] << ',' << st[1] << '\n';
    gp << "e\n";
  }
  gp << "unset multiplot\n";
  gp.close();
  if (std::system(("gnuplot '" + script + "'").c_str()) == 0)
    std::printf("wrote %s\n", png_path.c_str());
  else
    std::printf("gnuplot failed on %s\n", script.c_str());
  return 0;
}
