"""apps/_cli.py: the library's errors phrased from their fields, in the flags' terms."""

import pytest
from absl import flags

from apps import _cli as cli


class _Collapse(RuntimeError):
    def __init__(self, layer, learning_rate, diverged, dead_fraction=None):
        super().__init__("GreedyLayerwisePretraining: pretraining learning_rate=...")
        self.layer, self.learning_rate = layer, learning_rate
        self.diverged, self.dead_fraction = diverged, dead_fraction


class _Conflict(ValueError):
    def __init__(self, model_dir, what=None, pid=None):
        super().__init__("`model_dir`=... holds ...")
        self.model_dir, self.what, self.pid = model_dir, what, pid


def test_a_diverged_layer_names_the_pretraining_flag():
    text = cli.collapse_message(_Collapse(2, 0.5, True))
    assert text.startswith("pretraining of hidden layer 2 diverged")
    assert "--pretrain_learning_rate=0.5" in text and " --learning_rate" not in text


def test_a_collapsed_layer_names_its_dead_units_and_the_flags():
    text = cli.collapse_message(_Collapse(1, 0.01, False, 0.75))
    assert "hidden layer 1 collapsed" in text and "75.0%" in text
    assert "--pretrain_learning_rate (it was 0.01)" in text and "--l1" in text


def test_an_error_without_fields_keeps_its_text():
    assert cli.collapse_message(RuntimeError("plain")) == "plain"


def test_a_folder_in_use_names_the_process():
    text = cli.conflict_message(_Conflict("runs/a", pid=4242))
    assert text.startswith("--model_dir=runs/a is in use by process 4242")


def test_a_folder_of_another_run_offers_restart_where_the_app_has_it():
    if "restart" not in flags.FLAGS:
        flags.DEFINE_boolean("restart", False, "test")
    try:
        text = cli.conflict_message(_Conflict("runs/a", what="a run of another configuration"))
    finally:
        delattr(flags.FLAGS, "restart")
    assert text == (
        "--model_dir=runs/a holds a run of another configuration; give another --model_dir, "
        "or --restart to replace it"
    )


def test_the_one_line_error_exits_2(capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", ["app.py"])
    with pytest.raises(SystemExit) as exit:
        cli.fail("--epochs must be an int >= 1;\n got --epochs=0")
    assert exit.value.code == 2
    assert (
        capsys.readouterr().err == "app.py: error: --epochs must be an int >= 1; got --epochs=0\n"
    )
