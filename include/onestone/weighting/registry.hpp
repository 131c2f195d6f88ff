#pragma once
/// @file registry.hpp
/// `make_balancer<T>(name)`: every balancing method by name, with its default hyper-parameters.

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/weighting/balancer.hpp"
#include "onestone/weighting/methods/db_mtl.hpp"
#include "onestone/weighting/methods/dwa.hpp"
#include "onestone/weighting/methods/famo.hpp"
#include "onestone/weighting/methods/gls.hpp"
#include "onestone/weighting/methods/gradnorm.hpp"
#include "onestone/weighting/methods/rlw.hpp"
#include "onestone/weighting/methods/static_weights.hpp"
#include "onestone/weighting/methods/stch.hpp"
#include "onestone/weighting/methods/uncertainty.hpp"
#include "onestone/weighting/weighting.hpp"

namespace onestone {
namespace weighting {

/// Names accepted by `make_balancer`: loss weighting first, then gradient methods.
inline const std::vector<std::string>& balancer_names() {
  static const std::vector<std::string> names = {
      "equal",  "uncertainty", "dwa",     "rlw",    "gls",     "famo",      "stch",
      "imtl_l", "gradnorm",    "db_mtl",  "mgda",   "mgda_l2", "mgda_loss", "mgda_loss+",
      "pcgrad", "graddrop",    "gradvac", "imtl_g", "cagrad",  "nash_mtl",  "aligned_mtl",
      "upgrad", "dualproj",    "config",  "moco"};
  return names;
}

/// A balancing method by name with its default hyper-parameters (random methods seeded with
/// `seed`). Throws std::invalid_argument listing the names for an unknown one.
///
/// Example: `model.set_balancer(onestone::weighting::make_balancer<float>("nash_mtl"));`
template <typename T>
std::shared_ptr<Balancer<T>> make_balancer(const std::string& name,
                                           std::uint64_t seed = 0x5eedULL) {
  auto grad = [&](auto combiner, bool rep_ok = true) -> std::shared_ptr<Balancer<T>> {
    return std::make_shared<GradientBalancer<T, decltype(combiner)>>(name, std::move(combiner),
                                                                     rep_ok);
  };
  if (name == "equal") return std::make_shared<EqualWeights<T>>();
  if (name == "uncertainty") return std::make_shared<UncertaintyWeighting<T>>();
  if (name == "dwa") return std::make_shared<DWA<T>>();
  if (name == "rlw") return std::make_shared<RLW<T>>(seed);
  if (name == "gls") return std::make_shared<GLS<T>>();
  if (name == "famo") return std::make_shared<FAMO<T>>();
  if (name == "stch") return std::make_shared<STCH<T>>();
  if (name == "imtl_l") return std::make_shared<IMTLL<T>>();
  if (name == "gradnorm") return std::make_shared<GradNorm<T>>();
  if (name == "db_mtl") return std::make_shared<DBMTL<T>>();
  if (name == "mgda") return grad(MGDA<T>(MGDANormalization::none));
  if (name == "mgda_l2") return grad(MGDA<T>(MGDANormalization::l2));
  if (name == "mgda_loss") return grad(MGDA<T>(MGDANormalization::loss));
  if (name == "mgda_loss+") return grad(MGDA<T>(MGDANormalization::loss_plus));
  if (name == "pcgrad") return grad(PCGrad<T>(seed));
  if (name == "graddrop") return grad(GradDrop<T>(seed));
  if (name == "gradvac") return grad(GradVac<T>(T(0.01), seed));
  if (name == "imtl_g") return grad(IMTLG<T>());
  if (name == "cagrad") return grad(CAGrad<T>());
  if (name == "nash_mtl") return grad(NashMTL<T>());
  if (name == "aligned_mtl") return grad(AlignedMTL<T>());
  if (name == "upgrad") return grad(UPGrad<T>());
  if (name == "dualproj") return grad(DualProj<T>());
  if (name == "config") return grad(ConFIG<T>());
  if (name == "moco") return grad(MoCo<T>());
  std::string all;
  for (auto& n : balancer_names()) all += (all.empty() ? "" : ", ") + n;
  throw std::invalid_argument("make_balancer: unknown method '" + name + "' (known: " + all + ")");
}

}  // namespace weighting
}  // namespace onestone
