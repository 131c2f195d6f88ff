#pragma once
/// @file registry.hpp
/// The table of every balancing method: its name, family, what it needs and guarantees, and a
/// factory taking named options. `make_balancer<T>(name, options)` builds from it, and the tests
/// iterate it, so a method added here goes through every property test.

#include <cstdint>
#include <functional>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/weighting/balancer.hpp"
#include "onestone/weighting/gradient/db_mtl.hpp"
#include "onestone/weighting/gradient/excess_mtl.hpp"
#include "onestone/weighting/gradient/graddrop.hpp"
#include "onestone/weighting/gradient/moco.hpp"
#include "onestone/weighting/gramian/aligned_mtl.hpp"
#include "onestone/weighting/gramian/basic.hpp"
#include "onestone/weighting/gramian/cagrad.hpp"
#include "onestone/weighting/gramian/config.hpp"
#include "onestone/weighting/gramian/dualproj.hpp"
#include "onestone/weighting/gramian/gradnorm.hpp"
#include "onestone/weighting/gramian/gradvac.hpp"
#include "onestone/weighting/gramian/imtl_g.hpp"
#include "onestone/weighting/gramian/mgda.hpp"
#include "onestone/weighting/gramian/modo.hpp"
#include "onestone/weighting/gramian/nash_mtl.hpp"
#include "onestone/weighting/gramian/pcgrad.hpp"
#include "onestone/weighting/gramian/sdmgrad.hpp"
#include "onestone/weighting/gramian/upgrad.hpp"
#include "onestone/weighting/loss/auto_lambda.hpp"
#include "onestone/weighting/loss/dwa.hpp"
#include "onestone/weighting/loss/famo.hpp"
#include "onestone/weighting/loss/gls.hpp"
#include "onestone/weighting/loss/rlw.hpp"
#include "onestone/weighting/loss/static_weights.hpp"
#include "onestone/weighting/loss/stch.hpp"
#include "onestone/weighting/loss/uncertainty.hpp"

namespace onestone {
namespace weighting {

/// What a method guarantees and needs, for users and for the property tests.
struct MethodTraits {
  Family family = Family::Loss;
  const char* paper = "";
  bool needs_losses = false;
  bool random = false;           ///< draws random numbers (seeded; option `seed`)
  bool stateful = false;         ///< keeps state across steps (beyond a generator)
  bool non_conflicting = false;  ///< gᵢ·d ≥ 0 for every task (for linearly independent gᵢ)
  bool scaling_known = false;    ///< d(cJ) = c^k·d(J) holds for a fresh method
  double scaling_power = 1;      ///< that k
};

/// One row of the registry.
template <typename T>
struct MethodSpec {
  std::string name;
  MethodTraits traits;
  std::function<std::shared_ptr<Balancer<T>>(const MethodOptions&)> make;
};

namespace detail {
inline std::vector<double> number_list(const MethodOptions& o, const std::string& key) {
  std::vector<double> out;
  const std::string s = o.word(key, "");
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ';')) {
    if (item.empty()) continue;
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    if (end == item.c_str() || *end != '\0')
      throw std::invalid_argument("MethodOptions: option '" + key + "' = '" + s +
                                  "' is not a ';'-separated list of numbers");
    out.push_back(v);
  }
  return out;
}
inline std::uint64_t seed_of(const MethodOptions& o, std::uint64_t fallback) {
  return static_cast<std::uint64_t>(o.number("seed", static_cast<double>(fallback)));
}
template <typename T, typename M>
std::shared_ptr<Balancer<T>> gramian(std::shared_ptr<M> m, const MethodOptions& o) {
  m->read_aggregator_options(o);
  return m;
}
}  // namespace detail

/// Every method: loss weighting first, then Gramian weightings, then other gradient methods.
template <typename T>
const std::vector<MethodSpec<T>>& methods() {
  using O = const MethodOptions&;
  using std::make_shared;
  static const std::vector<MethodSpec<T>> table = [] {
    std::vector<MethodSpec<T>> t;
    auto loss = [&](const char* name, const char* paper, bool random, bool stateful,
                    std::function<std::shared_ptr<Balancer<T>>(O)> f) {
      MethodTraits tr;
      tr.family = Family::Loss;
      tr.paper = paper;
      tr.random = random;
      tr.stateful = stateful;
      t.push_back({name, tr, f});
    };
    auto gram = [&](const char* name, const char* paper, MethodTraits tr,
                    std::function<std::shared_ptr<Balancer<T>>(O)> f) {
      tr.paper = paper;
      t.push_back({name, tr, f});
    };
    auto G = [](bool losses, bool random, bool stateful, bool nc, bool sk, double k,
                Family f = Family::Gramian) {
      MethodTraits tr;
      tr.family = f;
      tr.needs_losses = losses;
      tr.random = random;
      tr.stateful = stateful;
      tr.non_conflicting = nc;
      tr.scaling_known = sk;
      tr.scaling_power = k;
      return tr;
    };
    // ---- loss weighting ----------------------------------------------------------------
    loss("equal", "linear scalarisation", false, false,
         [](O) { return make_shared<EqualWeights<T>>(); });
    loss("static", "fixed task weights", false, false,
         [](O o) { return make_shared<StaticWeights<T>>(detail::number_list(o, "weights")); });
    loss("uncertainty", "Kendall et al., CVPR 2018", false, true, [](O o) {
      UncertaintyOptions u;
      u.common = o.word("form", "paper", {"paper", "common"}) == "common";
      for (double v : detail::number_list(o, "classification"))
        u.classification.push_back(static_cast<int>(v));
      u.init = o.number("init", 0.0);
      return make_shared<UncertaintyWeighting<T>>(u);
    });
    loss("dwa", "Liu et al., CVPR 2019", false, true,
         [](O o) { return make_shared<DWA<T>>(o.number("temperature", 2.0)); });
    loss("rlw", "Lin et al., TMLR 2022", true, false,
         [](O o) { return make_shared<RLW<T>>(detail::seed_of(o, 0x5eedULL)); });
    loss("gls", "Chennupati et al., CVPRW 2019", false, false,
         [](O) { return make_shared<GLS<T>>(); });
    loss("famo", "Liu et al., NeurIPS 2023", false, true, [](O o) {
      return make_shared<FAMO<T>>(o.number("w_lr", 0.025), o.number("gamma", 0.01),
                                  o.number("eps", 1e-8));
    });
    loss("stch", "Lin et al., ICML 2024", false, true, [](O o) {
      auto s = make_shared<STCH<T>>(o.number("mu", 0.1), detail::number_list(o, "pref"),
                                    o.number("margin", 1e-3), detail::number_list(o, "reference"));
      if (o.word("objective", "difference", {"difference", "log_nadir"}) == "log_nadir")
        s->log_nadir(static_cast<int>(o.number("warmup", 4)));
      return s;
    });
    loss("imtl_l", "Liu et al., ICLR 2021", false, true, [](O) { return make_shared<IMTLL<T>>(); });
    loss("auto_lambda", "Liu, Johns & Davison, TMLR 2022", false, true, [](O o) {
      std::vector<int> primary;
      for (double v : detail::number_list(o, "primary")) primary.push_back(static_cast<int>(v));
      return make_shared<AutoLambda<T>>(o.number("init", 0.1), o.number("lr", 1e-4), primary);
    });
    // ---- Gramian weightings ------------------------------------------------------------
    gram("sum", "TorchJD Sum", G(false, false, false, false, true, 1),
         [](O o) { return detail::gramian<T>(make_shared<Sum<T>>(), o); });
    gram("mean", "TorchJD Mean", G(false, false, false, false, true, 1),
         [](O o) { return detail::gramian<T>(make_shared<Mean<T>>(), o); });
    gram("constant", "TorchJD Constant", G(false, false, false, false, true, 1), [](O o) {
      return detail::gramian<T>(make_shared<Constant<T>>(detail::number_list(o, "weights")), o);
    });
    auto mgda = [](MGDANormalization n) {
      return [n](O o) {
        MGDAOptions<T> opt;
        opt.normalization = n;
        opt.combine_normalized =
            o.word("combine", "original", {"original", "normalized"}) == "normalized";
        return detail::gramian<T>(make_shared<MGDA<T>>(opt), o);
      };
    };
    gram("mgda", "Sener & Koltun, NeurIPS 2018", G(false, false, false, true, true, 1),
         mgda(MGDANormalization::none));
    gram("mgda_l2", "Sener & Koltun, NeurIPS 2018", G(false, false, false, false, true, 1),
         mgda(MGDANormalization::l2));
    gram("mgda_loss", "Sener & Koltun, NeurIPS 2018", G(true, false, false, false, true, 1),
         mgda(MGDANormalization::loss));
    gram("mgda_loss+", "Sener & Koltun, NeurIPS 2018", G(true, false, false, false, true, 1),
         mgda(MGDANormalization::loss_plus));
    gram("pcgrad", "Yu et al., NeurIPS 2020", G(false, true, false, false, true, 1), [](O o) {
      return detail::gramian<T>(make_shared<PCGrad<T>>(detail::seed_of(o, 0x5eedULL)), o);
    });
    gram("gradvac", "Wang et al., ICLR 2021", G(false, true, true, false, true, 1), [](O o) {
      return detail::gramian<T>(
          make_shared<GradVac<T>>(o.number("beta", 0.01), detail::seed_of(o, 0x5eedULL)), o);
    });
    gram("imtl_g", "Liu et al., ICLR 2021", G(false, false, false, false, true, 1),
         [](O o) { return detail::gramian<T>(make_shared<IMTLG<T>>(), o); });
    gram("cagrad", "Liu et al., NeurIPS 2021", G(false, false, false, false, true, 1), [](O o) {
      const std::string r =
          o.word("rescale", "squared", {"none", "squared", "linear", "0", "1", "2"});
      const CAGradRescale rs = (r == "none" || r == "0")     ? CAGradRescale::none
                               : (r == "linear" || r == "2") ? CAGradRescale::linear
                                                             : CAGradRescale::squared;
      return detail::gramian<T>(make_shared<CAGrad<T>>(o.number("c", 0.5), rs), o);
    });
    gram("nash_mtl", "Navon et al., ICML 2022", G(false, false, true, true, true, 0), [](O o) {
      return detail::gramian<T>(
          make_shared<NashMTL<T>>(static_cast<int>(o.number("update_every", 1))), o);
    });
    gram("fairgrad", "Ban & Ji, ICML 2024", G(false, false, true, true, true, 0), [](O o) {
      return detail::gramian<T>(make_shared<FairGrad<T>>(o.number("alpha", 1.0)), o);
    });
    gram("aligned_mtl", "Senushkin et al., CVPR 2023", G(false, false, false, false, true, 1),
         [](O o) {
           const std::string s = o.word("scale", "min", {"min", "median", "rmse"});
           const AlignedScale sc = s == "median" ? AlignedScale::median
                                   : s == "rmse" ? AlignedScale::rmse
                                                 : AlignedScale::min;
           return detail::gramian<T>(make_shared<AlignedMTL<T>>(sc), o);
         });
    auto dual = [](O o) {
      DualConeOptions<T> d;
      d.pref = detail::number_list(o, "pref");
      d.reg_eps = static_cast<T>(o.number("reg_eps", 0.0));
      return d;
    };
    gram("upgrad", "Quinton & Rey 2024", G(false, false, false, true, true, 1),
         [dual](O o) { return detail::gramian<T>(make_shared<UPGrad<T>>(dual(o)), o); });
    gram("dualproj", "Quinton & Rey 2024", G(false, false, false, true, true, 1),
         [dual](O o) { return detail::gramian<T>(make_shared<DualProj<T>>(dual(o)), o); });
    gram("config", "Liu, Chen & Thuerey, ICLR 2025", G(false, false, false, true, true, 1),
         [](O o) { return detail::gramian<T>(make_shared<ConFIG<T>>(), o); });
    gram("gradnorm", "Chen et al., ICML 2018", G(true, false, true, false, true, 1), [](O o) {
      const bool libmtl = o.word("form", "paper", {"paper", "libmtl"}) == "libmtl";
      auto g =
          make_shared<GradNorm<T>>(o.number("alpha", 1.5), o.number("lr", libmtl ? 1e-4 : 0.025));
      if (libmtl) g->libmtl(o.number("lr", 1e-4), o.number("weight_decay", 0.0));
      return detail::gramian<T>(g, o);
    });
    gram("modo", "Chen et al., NeurIPS 2023", G(false, false, true, false, false, 1), [](O o) {
      return detail::gramian<T>(make_shared<MoDo<T>>(o.number("gamma", 0.1), o.number("rho", 0.1)),
                                o);
    });
    gram("sdmgrad", "Xiao, Ban & Ji, NeurIPS 2023", G(false, false, true, false, false, 1),
         [](O o) {
           return detail::gramian<T>(
               make_shared<SDMGrad<T>>(
                   o.number("lambda", 0.3), static_cast<int>(o.number("niter", 20)),
                   o.number("lr", 10.0), o.number("momentum", 0.5),
                   o.word("scale", "reference", {"reference", "clamped"}) == "clamped"),
               o);
         });
    // ---- other gradient methods ---------------------------------------------------------
    gram("graddrop", "Chen et al., NeurIPS 2020",
         G(false, true, false, false, true, 1, Family::Gradient), [](O o) {
           return std::shared_ptr<Balancer<T>>(
               make_shared<GradDrop<T>>(detail::seed_of(o, 0x5eedULL), o.number("leak", 0.0)));
         });
    gram("db_mtl", "Lin et al. 2023", G(true, false, true, false, true, 1, Family::Gradient),
         [](O o) {
           return std::shared_ptr<Balancer<T>>(
               make_shared<DBMTL<T>>(o.number("beta", 0.9), o.number("beta_sigma", 0.5),
                                     o.word("init", "first", {"first", "zero"}) == "zero"));
         });
    gram("moco", "Fernando et al., ICLR 2023",
         G(false, false, true, false, false, 1, Family::Gradient), [](O o) {
           MoCoOptions m;
           m.beta = o.number("beta", m.beta);
           m.beta_sigma = o.number("beta_sigma", m.beta_sigma);
           m.gamma = o.number("gamma", m.gamma);
           m.gamma_sigma = o.number("gamma_sigma", m.gamma_sigma);
           m.rho = o.number("rho", m.rho);
           m.normalize_by_loss = o.number("normalize_by_loss", 0) != 0;
           m.zero_init = o.word("init", "first", {"first", "zero"}) == "zero";
           m.softmax = o.word("simplex", "project", {"project", "softmax"}) == "softmax";
           return std::shared_ptr<Balancer<T>>(make_shared<MoCo<T>>(m));
         });
    gram("excess_mtl", "He et al., ICML 2024",
         G(false, false, true, false, true, 1, Family::Gradient), [](O o) {
           return std::shared_ptr<Balancer<T>>(make_shared<ExcessMTL<T>>(
               o.number("eta", 1e-2), o.word("aggregate", "mean", {"mean", "sum"}) == "mean",
               static_cast<int>(o.number("warmup", 1))));
         });
    return t;
  }();
  return table;
}

/// Names of every method, in the table's order: `balancer_names()`. (A template so that a
/// program that never asks builds no table: the table instantiates every method.)
template <typename T = double>
const std::vector<std::string>& balancer_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& m : methods<T>()) n.push_back(m.name);
    return n;
  }();
  return names;
}

/// The registry row of `name` (throws std::invalid_argument listing the names).
template <typename T>
const MethodSpec<T>& method_spec(const std::string& name) {
  for (const auto& m : methods<T>())
    if (m.name == name) return m;
  std::string all;
  for (const auto& n : balancer_names<T>()) all += (all.empty() ? "" : ", ") + n;
  throw std::invalid_argument("make_balancer: unknown method '" + name + "' (known: " + all + ")");
}

/// A balancing method by name, with options ("c=0.4,rescale=none" or a `MethodOptions`); every
/// option must be one the method reads. Random methods take `seed`.
///
/// Example: `model.set_balancer(onestone::weighting::make_balancer<float>("nash_mtl"));`
template <typename T>
std::shared_ptr<Balancer<T>> make_balancer(const std::string& name,
                                           const MethodOptions& options = MethodOptions()) {
  const MethodSpec<T>& spec = method_spec<T>(name);
  std::shared_ptr<Balancer<T>> b = spec.make(options);
  options.check_all_used(name);
  return b;
}
/// With options as text, e.g. make_balancer<float>("cagrad", "c=0.4").
template <typename T>
std::shared_ptr<Balancer<T>> make_balancer(const std::string& name, const std::string& options) {
  return make_balancer<T>(name, MethodOptions::parse(options));
}
template <typename T>
std::shared_ptr<Balancer<T>> make_balancer(const std::string& name, const char* options) {
  return make_balancer<T>(name, MethodOptions::parse(options));
}
/// With only a seed (random methods use it; others ignore it).
template <typename T>
std::shared_ptr<Balancer<T>> make_balancer(const std::string& name, std::uint64_t seed) {
  MethodOptions o;
  if (method_spec<T>(name).traits.random) o.set("seed", static_cast<double>(seed));
  return make_balancer<T>(name, o);
}

/// "name" or "name:key=value,..." → the method (the form examples take on the command line).
template <typename T>
std::shared_ptr<Balancer<T>> make_balancer_from_spec(const std::string& spec) {
  const std::size_t colon = spec.find(':');
  if (colon == std::string::npos) return make_balancer<T>(spec);
  return make_balancer<T>(spec.substr(0, colon), MethodOptions::parse(spec.substr(colon + 1)));
}

ONESTONE_EXPLICIT(WEIGHTING_FLOAT, const std::vector<MethodSpec<float>>& methods<float>())
ONESTONE_EXPLICIT(WEIGHTING_DOUBLE, const std::vector<MethodSpec<double>>& methods<double>())

}  // namespace weighting
}  // namespace onestone
