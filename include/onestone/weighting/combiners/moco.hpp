#pragma once
/// @file moco.hpp
/// `MoCo<T>`: multi-objective gradient correction with tracked gradients (Fernando et al. 2023).

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "onestone/nn/extra_state.hpp"
#include "onestone/weighting/jacobian.hpp"
#include "onestone/weighting/solvers/project_simplex.hpp"

namespace onestone {
namespace weighting {

/// Hyper-parameters of `MoCo`. Step sizes decay as β_k = beta/k^beta_sigma and
/// γ_k = gamma/k^gamma_sigma at the k-th call (k = 1, 2, …); the defaults are those of LibMTL's
/// implementation of the authors' code (β = 0.5, γ = 0.1, both decays 0.5, ρ = 0).
///
/// @code
/// onestone::weighting::MoCoOptions<double> opt;
/// opt.gamma = 0.05;  opt.rho = 0.01;
/// @endcode
template <typename T>
struct MoCoOptions {
  T beta = T(0.5);         ///< tracking step β of Y
  T beta_sigma = T(0.5);   ///< decay exponent of β_k
  T gamma = T(0.1);        ///< step γ of the simplex weights λ
  T gamma_sigma = T(0.5);  ///< decay exponent of γ_k
  T rho = T(0);            ///< ℓ2 regularisation ρ of the λ update
  /// LibMTL's pre-processing gᵢ ← Lᵢ·gᵢ/‖gᵢ‖ (needs losses); off by default, as in the paper.
  bool normalize_by_loss = false;
};

/// MoCo (Fernando, Shen, Liu, Chaudhury, Murugesan & Chen 2023, "Mitigating Gradient Bias in
/// Multi-objective Learning: A Provably Convergent Approach", ICLR; Algorithm 1). Keeps tracked
/// gradients Y (T×P) and simplex weights λ; at call k with Jacobian J:
///     Y ← Y − β_k (Y − J)                                  (Y = J at the first call)
///     λ ← Π_Δ(λ − γ_k (YYᵀ + ρI) λ)                        (`solvers::project_simplex`)
///     d = Yᵀλ.
/// The tracking removes the bias of stochastic MGDA; λ follows projected gradient steps on the
/// MGDA objective ½‖Yᵀλ‖² (+ρ/2‖λ‖²), so with a constant J it converges to MGDA's weights.
///
/// Choices: Y starts at the first Jacobian (LibMTL starts at 0 with β₁ = β, which halves the
/// first update); λ starts at 𝟙/T; λ is projected onto the simplex as in the paper (LibMTL uses a
/// softmax instead). Scale: a convex combination of tracked gradients (Σλ = 1), like MGDA.
/// weights() is λ — the weights of the TRACKED gradients, d = Yᵀλ (tracked() is Y), not of J.
/// State: Y, λ and k; `reset()` clears them; T and P must stay fixed between resets.
///
/// @code
/// onestone::weighting::MoCo<double> moco;
/// onestone::weighting::Vector<double> d;
/// for (int step = 0; step < 100; ++step) { /* J = ...; */ moco.combine(J, d); }
/// @endcode
template <typename T>
class MoCo {
 public:
  using Vector = weighting::Vector<T>;
  using Matrix = weighting::Matrix<T>;

  /// @param opt the hyper-parameters (see MoCoOptions).
  explicit MoCo(MoCoOptions<T> opt = {}) : opt_(opt) {
    if (!(opt.beta > T(0) && opt.beta <= T(1)) || !(opt.gamma > T(0)) ||
        !(opt.beta_sigma >= T(0)) || !(opt.gamma_sigma >= T(0)) || !(opt.rho >= T(0)))
      throw std::invalid_argument(
          "MoCo: need 0 < beta <= 1, gamma > 0, beta_sigma, gamma_sigma, rho >= 0");
  }

  /// The method's name, used in error messages.
  static const char* name() { return "MoCo"; }

  /// Clears Y, λ and the step count.
  void reset() {
    Y_.resize(0, 0);
    lambda_.resize(0);
    step_ = 0;
  }

  /// One MoCo step: updates Y and λ, d ← Yᵀλ. `losses` is needed with normalize_by_loss.
  /// @throws std::invalid_argument on bad J/losses or a shape different from the state's.
  void combine(const Jacobian<T>& J, Vector& d, const Vector* losses = nullptr) {
    detail::check_jacobian(name(), J);
    if (opt_.normalize_by_loss || losses != nullptr) detail::check_losses(name(), J, losses, false);
    const Eigen::Index m = J.rows();
    if (step_ > 0 && (Y_.rows() != m || Y_.cols() != J.cols()))
      throw std::invalid_argument(std::string(name()) + ": the Jacobian has shape " +
                                  detail::shape_str(J.rows(), J.cols()) + " but the state has " +
                                  detail::shape_str(Y_.rows(), Y_.cols()) + "; call reset()");
    ++step_;
    const T k = static_cast<T>(step_);
    const T beta_k = opt_.beta / std::pow(k, opt_.beta_sigma);
    const T gamma_k = opt_.gamma / std::pow(k, opt_.gamma_sigma);
    if (opt_.normalize_by_loss) {
      scaled_ = J;
      for (Eigen::Index i = 0; i < m; ++i) {
        const T n = scaled_.row(i).norm();
        if (n > T(0)) scaled_.row(i) *= (*losses)[i] / n;
      }
    }
    const Jacobian<T>& grads = opt_.normalize_by_loss ? scaled_ : J;
    if (step_ == 1) {
      Y_ = grads;
      lambda_.setConstant(m, T(1) / static_cast<T>(m));
    } else {
      Y_ += beta_k * (grads - Y_);
    }
    gram(Y_, YY_);
    YY_.diagonal().array() += opt_.rho;
    YY_lambda_.noalias() = YY_ * lambda_;
    step_vec_ = lambda_ - gamma_k * YY_lambda_;
    solvers::project_simplex(step_vec_, lambda_, scratch_);
    d.noalias() = Y_.transpose() * lambda_;
  }

  /// λ of the last call (on the simplex): d = tracked()ᵀ·weights().
  const Vector& weights() const { return lambda_; }
  /// The tracked gradients Y (T×P).
  const Jacobian<T>& tracked() const { return Y_; }
  /// Number of calls since construction or reset().
  long steps() const { return step_; }

  /// Saves the tracked gradients Y, the weights λ and the step count (for checkpoints through
  /// `GradientBalancer`).
  void save_state(nn::ExtraState& s) const {
    s.put("tracked", Y_);
    s.put("lambda", lambda_);
    s.put("step", static_cast<std::int64_t>(step_));
  }
  /// Restores what `save_state` saved, all or nothing.
  void load_state(const nn::ExtraState& s) {
    Jacobian<T> Y;
    Vector lambda;
    s.get("tracked", Y);
    s.get("lambda", lambda, Y.rows());
    const std::int64_t step = s.get_int("step", 0, std::numeric_limits<long>::max());
    if (step > 0 && Y.size() == 0)
      throw std::runtime_error(std::string(name()) + ": extra state of '" + s.owner() +
                               "' has step " + std::to_string(step) + " but no tracked gradients");
    Y_ = std::move(Y);
    lambda_ = std::move(lambda);
    step_ = static_cast<long>(step);
  }

 private:
  MoCoOptions<T> opt_;
  Jacobian<T> Y_;
  Matrix YY_;
  Jacobian<T> scaled_;
  Vector lambda_, step_vec_, scratch_, YY_lambda_;
  long step_ = 0;
};

}  // namespace weighting
}  // namespace onestone
