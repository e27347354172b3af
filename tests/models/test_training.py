"""The paper's training setup: constant-rate SGD, steps per execution, XLA (section 4.1)."""

import keras
import pytest

from keras_sparse_rect.models import (
    STEPS_PER_EXECUTION,
    build_deep_network,
    compile_for_paper,
    resolve_jit_compile,
    steps_per_execution_for,
)
from tests.helpers import to_numpy


@pytest.mark.xla
def test_compile_for_paper_is_constant_rate_sgd_with_fast_settings():
    model = build_deep_network((16,), 3, hidden_units=(8,))
    compile_for_paper(model, learning_rate=0.05)
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert float(to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.05)
    assert model.optimizer.momentum == 0.0
    assert model.steps_per_execution == STEPS_PER_EXECUTION
    assert model.jit_compile is True  # TensorFlow and JAX both compile each step with XLA
    assert resolve_jit_compile(False) is False
    sparse = build_deep_network((16,), 3, hidden_units=(8,), sparse=True)
    # TensorFlow's sparse ops do not compile with XLA; JAX's BCOO ops do.
    assert resolve_jit_compile("auto", sparse) is (keras.backend.backend() == "jax")
    assert type(sparse.get_layer("hidden_1_dense")).__name__ == "SparseDense"
    with pytest.raises(ValueError, match="`learning_rate`"):
        compile_for_paper(model, learning_rate=0.0)
    with pytest.raises(ValueError, match="`steps_per_execution`"):
        compile_for_paper(model, steps_per_execution=0)
    with pytest.raises(ValueError, match="`jit_compile`"):
        resolve_jit_compile("yes")


def test_steps_per_execution_divides_the_epoch():
    assert steps_per_execution_for(3500, 10) == 70  # 350 steps
    assert steps_per_execution_for(50_000, 10) == 100
    assert steps_per_execution_for(35, 10) == 4
    assert steps_per_execution_for(50_030, 10) == 100  # 5,003 steps, a prime: speed kept
