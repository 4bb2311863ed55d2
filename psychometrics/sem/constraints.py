"""General constraints: ``b1 == (b2 + b3)^2``, ``b1 == 2*b2``, ``a > 0``, ``b1 > exp(b2 + b3)``.

Equality between two bare labels shares one parameter (:mod:`.partable`); every other
constraint is handled here, as lavaan 0.6-14 does:

* estimation: the ML discrepancy is minimised subject to ``ceq(theta) = 0`` and
  ``cin(theta) >= 0`` (``lhs - rhs`` for ``==`` and ``>``, ``rhs - lhs`` for ``<``;
  expressions in R syntax over labels and ``:=`` parameters) by sequential quadratic
  programming (scipy SLSQP with the analytic gradient), then polished by SQP steps with
  the expected information as Hessian on the active set. Convergence is declared only
  when the KKT conditions hold: the gradient projected on the null space of the active
  constraints is ~0, the constraints hold, and the multipliers of active inequalities
  have the right sign.
* standard errors: lavaan ``lav_model_information_augment_invert``: with ``H`` the
  Jacobian of the equality and the active inequality constraints (active: value below
  lavaan's slack 1e-5), ``V = [ginv([[A + H'H, H'], [H, 0]])]_(1:npar, 1:npar) / N``.
* degrees of freedom: ``ndat - npar + rank(Jacobian of the equality constraints)``
  (lavaan ``lav_test``); inequality constraints do not change df.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exceptions import ModelSpecificationError
from .defined import compile_definitions, evaluate_definitions
from .syntax import Definition

__all__ = ["ConstraintSet", "compile_constraints", "optimize_constrained", "constrained_vcov"]

SLACK = 1e-5   # lavaan: an inequality with value above this is inactive


@dataclass(frozen=True)
class ConstraintSet:
    """Compiled general constraints of a model."""

    exprs: tuple          # compiled expressions (value >= 0 or == 0)
    kinds: tuple          # "eq" or "ineq" per constraint
    texts: tuple          # as written, e.g. "b1 == (b2+b3)^2"
    defs: tuple           # compiled := definitions they may use
    labels: tuple         # the label of each parameter-table row

    @property
    def n_eq(self) -> int:
        return sum(k == "eq" for k in self.kinds)

    def __len__(self) -> int:
        return len(self.kinds)


def compile_constraints(pt, defs) -> ConstraintSet | None:
    """Compile ``pt.constraints`` (None when there are none)."""
    cons = list(pt.constraints)
    if not cons:
        return None
    labels = set(pt.c("label")) - {""}
    known = labels | {d.name for d in defs}
    pseudo = []
    kinds = []
    texts = []
    for k, c in enumerate(cons):
        if c.op == "<":
            expr = f"({c.rhs})-({c.lhs})"
        else:
            expr = f"({c.lhs})-({c.rhs})"
        pseudo.append(Definition(f"_con{k}_", expr, c.line))
        kinds.append("eq" if c.op == "==" else "ineq")
        texts.append(f"{c.lhs} {c.op} {c.rhs}")
    compiled = compile_definitions(pseudo, known)
    for c, cd in zip(cons, compiled):
        if not cd.names:
            raise ModelSpecificationError(
                f"Model syntax line {c.line}: constraint '{c.lhs} {c.op} {c.rhs}' involves no "
                f"parameter label.")
    return ConstraintSet(tuple(compiled), tuple(kinds), tuple(texts), tuple(defs),
                         tuple(pt.c("label")))


def constraint_values(prob, cs: ConstraintSet, theta) -> np.ndarray:
    from .estimate import row_values
    values = row_values(prob, theta)
    env = {}
    for lbl, v in zip(cs.labels, values):
        if lbl and lbl not in env:
            env[lbl] = v
    if cs.defs:
        env.update(evaluate_definitions(cs.defs, env))
    out = evaluate_definitions(cs.exprs, env)
    return np.array([out[e.name] for e in cs.exprs], dtype=np.result_type(theta, float))


def constraint_jacobian(prob, cs: ConstraintSet, theta) -> np.ndarray:
    """d constraint / d theta by complex step (lavaan ``lav_func_jacobian_complex``)."""
    n = len(theta)
    J = np.zeros((len(cs), n))
    h = 1e-20
    for j in range(n):
        x = theta.astype(complex)
        x[j] += 1j * h
        J[:, j] = np.imag(constraint_values(prob, cs, x)) / h
    return J


def _active(cs, vals):
    return np.array([k == "eq" or v <= SLACK for k, v in zip(cs.kinds, vals)], dtype=bool)


def _kkt(prob, cs, theta, g, tol):
    """(ok, projected-gradient norm, multipliers) of the KKT conditions at theta."""
    vals = np.real(constraint_values(prob, cs, theta))
    eq = np.array([k == "eq" for k in cs.kinds])
    feas = np.all(np.abs(vals[eq]) <= 1e-8) and np.all(vals[~eq] >= -1e-8)
    act = _active(cs, vals)
    H = constraint_jacobian(prob, cs, theta)[act]
    if H.shape[0]:
        lam, *_ = np.linalg.lstsq(H.T, g, rcond=None)
        resid = g - H.T @ lam
        ineq_act = ~eq[act]
        sign_ok = np.all(lam[ineq_act] >= -1e-6)   # grad f = H' lam, lam >= 0 for cin >= 0
    else:
        lam = np.zeros(0)
        resid = g
        sign_ok = True
    pg = float(np.max(np.abs(resid))) if len(resid) else 0.0
    return bool(feas and sign_ok and pg <= tol), pg, lam


def optimize_constrained(prob, theta0, cs: ConstraintSet, max_iter: int = 1000):
    """Minimise fmin subject to the constraints; returns an ``estimate.OptimResult``."""
    from scipy.optimize import minimize

    from .estimate import OptimResult, evaluate, fmin_value

    def fun(x):
        f = fmin_value(prob, x)
        return f if np.isfinite(f) else 1e10

    def jac(x):
        f, g, _ = evaluate(prob, x, info=False)
        return g if g is not None else np.zeros_like(x)

    cons = []
    for k, kind in enumerate(cs.kinds):
        cons.append({"type": "eq" if kind == "eq" else "ineq",
                     "fun": (lambda x, k=k: float(np.real(constraint_values(prob, cs, x)[k]))),
                     "jac": (lambda x, k=k: constraint_jacobian(prob, cs, x)[k])})
    x = np.asarray(theta0, dtype=float).copy()
    res = None
    for _ in range(3):
        res = minimize(fun, x, jac=jac, constraints=cons, method="SLSQP",
                       options={"maxiter": max_iter, "ftol": 1e-15})
        if np.all(np.isfinite(res.x)):
            x = res.x
        if res.success:
            break
    iterations = int(res.nit)
    # polish: SQP steps with the expected information on the active set
    f, g, I = evaluate(prob, x)
    for it in range(50):
        vals = np.real(constraint_values(prob, cs, x))
        act = _active(cs, vals)
        H = constraint_jacobian(prob, cs, x)[act]
        ok, pg, _ = _kkt(prob, cs, x, g, 1e-9)
        if ok and (not act.any() or np.max(np.abs(vals[act])) < 1e-12):
            break
        m = H.shape[0]
        K = np.block([[I, H.T], [H, np.zeros((m, m))]]) if m else I
        rhs = np.concatenate([-g, -vals[act]]) if m else -g
        try:
            step = np.linalg.lstsq(K, rhs, rcond=None)[0][:len(x)]
        except np.linalg.LinAlgError:
            break
        t = 1.0
        improved = False
        while t > 1e-8:
            new = x + t * step
            f_new, g_new, I_new = evaluate(prob, new)
            v_new = np.real(constraint_values(prob, cs, new))
            viol_new = _violation(cs, v_new)
            if np.isfinite(f_new) and (f_new <= f + 1e-14 * max(1, abs(f))
                                       or viol_new < 0.5 * _violation(cs, vals)):
                x, f, g, I = new, f_new, g_new, I_new
                improved = True
                break
            t *= 0.5
        iterations += 1
        if not improved:
            break
    ok, pg, lam = _kkt(prob, cs, x, g, 1e-6)
    msg = ("KKT conditions hold (projected gradient %.2g)" % pg if ok else
           f"constrained optimum not certified: projected gradient {pg:.3g}, "
           f"scipy: {getattr(res, 'message', '')}")
    return OptimResult(x, float(f), g, I, iterations, ok, msg)


def _violation(cs, vals):
    v = 0.0
    for kind, val in zip(cs.kinds, vals):
        v = max(v, abs(val) if kind == "eq" else max(0.0, -val))
    return v


def active_jacobian(prob, cs: ConstraintSet, theta):
    """Jacobian of the equality and active inequality constraints; and of the equalities."""
    vals = np.real(constraint_values(prob, cs, theta))
    J = constraint_jacobian(prob, cs, theta)
    act = _active(cs, vals)
    eq = np.array([k == "eq" for k in cs.kinds])
    return J[act], J[eq]


def constrained_vcov(info: np.ndarray, H: np.ndarray, ntotal: int) -> np.ndarray:
    """lavaan's augmented-information inverse (``lav_model_information_augment_invert``).

    The variance of a parameter fixed by the active constraints is exactly 0 (lavaan
    prints 0 or, when rounding makes it negative, NA); it is set to 0 here.
    """
    npar = info.shape[0]
    if H.shape[0] == 0:
        return np.linalg.inv(info) / ntotal
    m = H.shape[0]
    E = np.block([[info + H.T @ H, H.T], [H, np.zeros((m, m))]])
    Einv = np.linalg.pinv(E, rcond=np.finfo(float).eps ** 0.75, hermitian=True)
    V = Einv[:npar, :npar] / ntotal
    V = 0.5 * (V + V.T)
    d = np.diag(V).copy()
    scale = np.max(np.abs(d)) if d.size else 1.0
    tiny = np.abs(d) < 1e-10 * scale
    V[tiny, :] = 0.0
    V[:, tiny] = 0.0
    return V
