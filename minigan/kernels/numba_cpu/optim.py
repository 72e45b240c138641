"""numba twins of the optimiser updates: one pass over the parameter instead of one per operation.

The reference updates a parameter with about a dozen whole-array operations,
each reading and writing memory and most allocating a temporary; here every
element is updated once, with its state, in registers. Scalars are cast to
the parameter's dtype first, so float32 arithmetic matches NumPy's. Arrays
that cannot be updated through a flat view (not contiguous, or not float32 or
float64) go to the reference.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from minigan.kernels import reference

__all__ = ["sgd_update", "adam_update", "rmsprop_update"]


@njit(cache=True, error_model="numpy")
def _sgd(param, grad, buffer, first_step, lr, momentum, one_minus_dampening, weight_decay, nesterov, maximize):
    for i in range(param.size):
        g = -grad[i] if maximize else grad[i]
        if weight_decay != 0:
            g = g + weight_decay * param[i]
        if momentum != 0:
            b = g if first_step else buffer[i] * momentum + one_minus_dampening * g
            buffer[i] = b
            g = g + momentum * b if nesterov else b
        param[i] -= lr * g


@njit(cache=True, error_model="numpy")
def _adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step_size, beta1, one_minus_beta1, beta2,
          one_minus_beta2, sqrt_bias_correction2, eps, weight_decay, decay_factor, amsgrad, maximize, decoupled):
    for i in range(param.size):
        g = -grad[i] if maximize else grad[i]
        if weight_decay != 0:
            if decoupled:
                param[i] *= decay_factor
            else:
                g = g + weight_decay * param[i]
        m = exp_avg[i] * beta1 + one_minus_beta1 * g
        v = exp_avg_sq[i] * beta2 + one_minus_beta2 * g * g
        exp_avg[i], exp_avg_sq[i] = m, v
        if amsgrad:
            v = max(max_exp_avg_sq[i], v)
            max_exp_avg_sq[i] = v
        param[i] -= step_size * (m / (np.sqrt(v) / sqrt_bias_correction2 + eps))


@njit(cache=True, error_model="numpy")
def _rmsprop(param, grad, square_avg, grad_avg, buffer, lr, alpha, one_minus_alpha, eps, weight_decay, momentum,
             centered, maximize):
    for i in range(param.size):
        g = -grad[i] if maximize else grad[i]
        if weight_decay != 0:
            g = g + weight_decay * param[i]
        v = square_avg[i] * alpha + one_minus_alpha * g * g
        square_avg[i] = v
        if centered:
            a = grad_avg[i] * alpha + one_minus_alpha * g
            grad_avg[i] = a
            denom = np.sqrt(v - a * a) + eps
        else:
            denom = np.sqrt(v) + eps
        if momentum > 0:
            b = buffer[i] * momentum + g / denom
            buffer[i] = b
            param[i] -= lr * b
        else:
            param[i] -= lr * (g / denom)


def _flat(param, grad, *state):
    """Flat views of ``param`` and the state (missing state: ``param``, never touched), or None if impossible."""
    arrays = [param] + [s for s in state if s is not None]
    if param.dtype not in (np.float32, np.float64) or not all(a.flags.c_contiguous for a in arrays):
        return None
    flat = param.reshape(-1)
    return (flat, np.ascontiguousarray(grad, dtype=param.dtype).reshape(-1),
            *(flat if s is None else s.reshape(-1) for s in state))


def sgd_update(param, grad, momentum_buffer, *, first_step, lr, momentum, dampening, weight_decay, nesterov,
               maximize):
    """As :func:`minigan.kernels.reference.sgd_update`."""
    flat = _flat(param, grad, momentum_buffer)
    if flat is None:
        return reference.sgd_update(param, grad, momentum_buffer, first_step=first_step, lr=lr, momentum=momentum,
                                    dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                                    maximize=maximize)
    t = param.dtype.type
    _sgd(*flat, first_step, t(lr), t(momentum), t(1 - dampening), t(weight_decay), nesterov, maximize)


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2, eps, weight_decay,
                amsgrad, maximize, decoupled_weight_decay=False):
    """As :func:`minigan.kernels.reference.adam_update`."""
    flat = _flat(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq)
    if flat is None:
        return reference.adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step=step, lr=lr,
                                     beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                     maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
    t = param.dtype.type
    _adam(*flat, t(lr / (1 - beta1**step)), t(beta1), t(1 - beta1), t(beta2), t(1 - beta2),
          t(math.sqrt(1 - beta2**step)), t(eps), t(weight_decay), t(1 - lr * weight_decay), amsgrad, maximize,
          decoupled_weight_decay)


def rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps, weight_decay, momentum,
                   centered, maximize):
    """As :func:`minigan.kernels.reference.rmsprop_update`."""
    flat = _flat(param, grad, square_avg, grad_avg, momentum_buffer)
    if flat is None:
        return reference.rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, lr=lr, alpha=alpha,
                                        eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered,
                                        maximize=maximize)
    t = param.dtype.type
    _rmsprop(*flat, t(lr), t(alpha), t(1 - alpha), t(eps), t(weight_decay), t(momentum), centered, maximize)
