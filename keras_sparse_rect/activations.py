"""Activation functions of the paper, selectable by name.

``rectifier``, ``softplus`` and ``tanh`` are the three neuron types compared in
Table 1 (section 4.1); ``lif`` is the leaky integrate-and-fire firing rate of
section 2.1 (Figure 1, left), included for plots and comparisons.

Example:

>>> import keras
>>> from keras_sparse_rect import activations
>>> f = activations.get("rectifier")
>>> keras.ops.convert_to_numpy(f(keras.ops.convert_to_tensor([-1.0, 2.0]))).tolist()
[0.0, 2.0]
"""

from keras import ops

from keras_sparse_rect._validation import check_positive
from keras_sparse_rect.api import register
from keras_sparse_rect.names import ACTIVATIONS


@register
def rectifier(x):
    """max(0, x): the rectifier of section 3.1, exactly zero for negative input."""
    return ops.relu(x)


@register
def softplus(x):
    """log(1 + exp(x)): the smooth rectifier of section 3.1 (Dugas et al., 2001)."""
    return ops.softplus(x)


@register
def tanh(x):
    """The hyperbolic tangent, the paper's dense, antisymmetric baseline."""
    return ops.tanh(x)


@register
def lif(
    current,
    t_ref=0.002,
    tau=0.010,
    resistance=10.0,
    potential=-65.0,
    v_rest=-65.0,
    v_threshold=-50.0,
):
    """Firing rate of a leaky integrate-and-fire neuron (section 2.1, Figure 1 left).

    ``f(I) = 1 / (tau * log((E + R I - V_r) / (E + R I - V_th)) + t_ref)`` when
    ``E + R I > V_th``, else 0. Defaults are textbook values (Dayan and Abbott,
    2001, ch. 5): a 2 ms refractory period, tau = 10 ms, R = 10 MOhm,
    E = V_r = -65 mV, V_th = -50 mV; with the current in nA the rate is in Hz
    and saturates at ``1 / t_ref``.

    Args:
        current: input current I (tensor).
        t_ref: refractory period t_ref (s), >= 0.
        tau: membrane time constant (s), > 0.
        resistance: membrane resistance R (MOhm), > 0.
        potential: membrane potential E (mV).
        v_rest: resting (reset) potential V_r (mV).
        v_threshold: threshold potential V_th (mV), > ``v_rest``.
    """
    check_positive("tau", tau)
    check_positive("resistance", resistance)
    if t_ref < 0:
        raise ValueError(f"`t_ref` must be >= 0; got t_ref={t_ref!r}.")
    if not v_threshold > v_rest:
        raise ValueError(
            f"`v_threshold` must be greater than `v_rest`; got v_threshold={v_threshold!r}"
            f" and v_rest={v_rest!r}."
        )
    current = ops.convert_to_tensor(current)
    if current.dtype not in ("float16", "bfloat16", "float32", "float64"):
        current = ops.cast(current, "float32")
    drive = potential + resistance * current
    firing = drive > v_threshold
    # Substitute a harmless drive where the neuron is silent so that the log
    # (and its gradient) never sees a non-positive argument.
    safe = ops.where(firing, drive, v_threshold + 1.0)
    period = tau * ops.log((safe - v_rest) / (safe - v_threshold)) + t_ref
    return ops.where(firing, 1.0 / period, ops.zeros_like(drive))


_BY_NAME = {
    "rectifier": rectifier,
    "relu": rectifier,
    "softplus": softplus,
    "tanh": tanh,
}

#: Names accepted wherever this library takes an activation.
NAMES = ACTIVATIONS


def get(identifier):
    """Returns the activation function named ``identifier`` (or a callable as is).

    Accepts ``"rectifier"`` (alias ``"relu"``), ``"softplus"`` and ``"tanh"``.
    """
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]
    raise ValueError(
        f"`activation` must be one of {list(NAMES)} or a callable; got activation={identifier!r}."
    )
