r"""One optimiser step for one parameter, in place on arrays.

Each function is the line-by-line transcription of the update rule in the
docstring of its optimiser class (:class:`minigan.optim.SGD`,
:class:`~minigan.optim.Adam`, :class:`~minigan.optim.RMSprop`): ``param`` and
the state arrays are updated in place, ``grad`` is read.
"""

from __future__ import annotations

import math

from minigan.kernels.arrays import array_module

__all__ = ["sgd_update", "adam_update", "rmsprop_update"]


def sgd_update(param, grad, momentum_buffer, *, first_step, lr, momentum, dampening, weight_decay, nesterov,
               maximize):
    """One SGD step: ``param`` and ``momentum_buffer`` are updated in place."""
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    if momentum != 0:
        if first_step:
            momentum_buffer[...] = g
        else:
            momentum_buffer *= momentum
            momentum_buffer += (1 - dampening) * g
        g = g + momentum * momentum_buffer if nesterov else momentum_buffer
    param -= lr * g


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2, eps, weight_decay,
                amsgrad, maximize, decoupled_weight_decay=False):
    """One Adam step: ``param`` and the moment arrays are updated in place."""
    xp = array_module(param)
    g = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled_weight_decay:
            param *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * param
    exp_avg *= beta1
    exp_avg += (1 - beta1) * g
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * g * g
    if amsgrad:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    second_moment = max_exp_avg_sq if amsgrad else exp_avg_sq
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    denom = xp.sqrt(second_moment) / math.sqrt(bias_correction2) + eps
    param -= (lr / bias_correction1) * (exp_avg / denom)


def rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps, weight_decay, momentum,
                   centered, maximize):
    """One RMSprop step: ``param`` and the averages are updated in place."""
    xp = array_module(param)
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    square_avg *= alpha
    square_avg += (1 - alpha) * g * g
    if centered:
        grad_avg *= alpha
        grad_avg += (1 - alpha) * g
        denom = xp.sqrt(square_avg - grad_avg * grad_avg) + eps
    else:
        denom = xp.sqrt(square_avg) + eps
    if momentum > 0:
        momentum_buffer *= momentum
        momentum_buffer += g / denom
        param -= lr * momentum_buffer
    else:
        param -= lr * (g / denom)
