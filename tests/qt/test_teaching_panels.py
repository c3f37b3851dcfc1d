"""Math, graph, code and loop panels follow each click in the window."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QTextDocumentFragment
from pytestqt.qtbot import QtBot

from gui_trainer.core.formatting import short
from gui_trainer.core.stages import CODE, LABELS, STAGES
from gui_trainer.qt.main_window import MainWindow


def click(window: MainWindow, qtbot: QtBot, stage: str) -> None:
    qtbot.mouseClick(window.step_buttons.buttons[stage], Qt.MouseButton.LeftButton)  # type: ignore[index]
    window.frame.flush()


def test_each_click_updates_math_code_and_graph(window: MainWindow, qtbot: QtBot) -> None:
    for stage in STAGES:
        click(window, qtbot, stage)
        math = window.math_panel.current_math()
        assert math is not None and CODE[stage].split("(")[0].split("=")[-1].strip() in math.title
        listing = window.code_panel.listing
        assert listing is not None and listing.highlighted is not None
        assert listing.lines[listing.highlighted].strip() == CODE[stage]
        shown = window.graph_view.snapshot
        assert shown == window.session.autograd_graph()
    text = window.math_panel.text.toPlainText()
    assert f"= {short(window.session.weight.item())}" in text  # the step's new weight
    assert "What it does" in text


def test_backward_lights_the_graph_in_reverse_and_shows_leaf_grads(
    window: MainWindow, qtbot: QtBot
) -> None:
    for stage in STAGES[:4]:
        click(window, qtbot, stage)
    window.graph_view.finish_animation()
    graph = window.graph_view.snapshot
    assert window.graph_view.visited == list(graph.backward_order)
    assert graph.node("AccumulateGrad:weight").grad == window.session.weight.grad.item()  # type: ignore[union-attr]
    assert "Backward" in window.graph_view.caption_label.text()
    click(window, qtbot, "step")
    assert "Freed" in window.graph_view.caption_label.text()


def test_full_precision_toggle_and_copy(window: MainWindow, qtbot: QtBot) -> None:
    click(window, qtbot, "zero_grad")
    click(window, qtbot, "forward")
    out = window.session.outputs[0, 0].item()  # type: ignore[index]
    window.math_panel.full.setChecked(True)
    assert repr(out) in window.math_panel.text.toPlainText()
    window.math_panel.copy()
    from PySide6.QtGui import QGuiApplication

    assert repr(out) in QGuiApplication.clipboard().text()


def test_clicking_a_loop_box_runs_that_stage(window: MainWindow, qtbot: QtBot) -> None:
    diagram = window.loop_diagram
    centre = diagram.box_rects()["zero_grad"].center().toPoint()
    qtbot.mouseClick(diagram, Qt.MouseButton.LeftButton, pos=centre)
    assert window.session.last_stage == "zero_grad"
    # Guided mode: a box out of order does nothing.
    qtbot.mouseClick(diagram, Qt.MouseButton.LeftButton,
                     pos=diagram.box_rects()["step"].center().toPoint())
    assert window.session.stage_count == 1
    qtbot.mouseClick(diagram, Qt.MouseButton.LeftButton, pos=QPoint(1, 1))
    assert window.session.stage_count == 1


def test_button_tooltips_carry_the_explanation(window: MainWindow) -> None:
    from gui_trainer.core.explanations import explanation

    for stage in STAGES:
        tip = QTextDocumentFragment.fromHtml(window.step_buttons.buttons[stage].toolTip())
        text = tip.toPlainText()
        assert CODE[stage] in text
        assert explanation(stage).summary.replace("`", "") in text
        assert "`" not in text  # the resource files' code marks are shown as code, not as is
        assert LABELS[stage] == window.step_buttons.buttons[stage].text()


def test_skipping_table_is_shown(window: MainWindow) -> None:
    assert "Gradients pile up" in window.skipping.toPlainText()


def test_a_new_graph_is_not_lit_by_the_last_backward(window: MainWindow, qtbot: QtBot) -> None:
    from gui_trainer.qt.theme import colours, qcolor

    for stage in STAGES[:4]:
        click(window, qtbot, stage)
    window.graph_view.finish_animation()
    assert window.graph_view.visited
    click(window, qtbot, "step")
    click(window, qtbot, "zero_grad")
    click(window, qtbot, "forward")  # a new, live graph: nothing visited on it yet
    assert window.graph_view.visited == []
    lit = qcolor(colours().node_visited)
    assert all(box.brush().color() != lit for box in window.graph_view.boxes.values())


def test_a_large_graph_is_drawn_one_box_per_module_and_can_be_opened_up(
    window: MainWindow, qtbot: QtBot
) -> None:
    from gui_trainer.core.scenarios import SCENARIOS

    window.controller.open_scenario(SCENARIOS["moons"])
    for stage in STAGES[:4]:
        click(window, qtbot, stage)
    view, box = window.graph_view, window.graph_panel.group_box
    view.finish_animation()
    modules = [f"module:{name}" for name, _ in window.session.model.named_children()]
    assert box.isEnabled() and box.isChecked()
    assert set(view.boxes) == {*modules, "module:loss_fn", "inputs@AddmmBackward0#11.1",
                               "outputs", "loss"}
    assert view.visited == list(view.shown.backward_order)  # lit, one box per module
    assert "AddmmBackward0" in view.boxes["module:0"].toolTip()
    box.click()  # every node PyTorch recorded, still lit
    assert set(view.boxes) == {node.key for node in window.session.autograd_graph().nodes}
    leaf = view.snapshot.node("AccumulateGrad:0.weight")
    assert view.detail(leaf) == f"‖0.weight.grad‖ = {short(leaf.grad)}"  # a norm, said so
    assert view.visited == list(window.session.autograd_graph().backward_order)
    click(window, qtbot, "step")
    assert not box.isChecked()  # the learner's choice holds for the next graph


def test_the_seed_graph_is_drawn_node_by_node(window: MainWindow, qtbot: QtBot) -> None:
    click(window, qtbot, "zero_grad")
    click(window, qtbot, "forward")
    assert not window.graph_panel.group_box.isChecked()
    assert set(window.graph_view.boxes) == {n.key for n in window.session.autograd_graph().nodes}


def test_a_layered_models_checks_are_green_when_they_hold(window: MainWindow, qtbot: QtBot) -> None:
    import html

    from gui_trainer.core.scenarios import SCENARIOS
    from gui_trainer.qt.math_panel import math_html
    from gui_trainer.qt.theme import colours

    window.controller.open_scenario(SCENARIOS["moons"])
    window.controller.set_optimizer("sgd")  # its update is checked element by element
    checked = []
    for stage in STAGES:
        click(window, qtbot, stage)
        math = window.math_panel.current_math()
        assert math is not None
        page = math_html(math, colours())
        for check in math.checks:
            assert check.startswith("✓")
            assert f"color:{colours().good}'>{html.escape(check)}" in page
            checked.append(stage)
    assert checked == ["backward", "step"]  # the chain rule by hand, SGD's update


def test_the_chain_rule_is_worked_for_the_sample_the_learner_picks(
    window: MainWindow, qtbot: QtBot
) -> None:
    from gui_trainer.core.scenarios import SCENARIOS

    assert not window.math_panel.sample.isVisibleTo(window)  # the one neuron: no walk
    window.controller.open_scenario(SCENARIOS["curve"])
    sample = window.math_panel.sample
    assert sample.isVisibleTo(window) and sample.maximum() == len(window.session.inputs) - 1
    for stage in STAGES[:4]:
        click(window, qtbot, stage)
    assert "Sample 0: its own loss" in window.math_panel.text.toPlainText()
    sample.setValue(7)
    expected = window.session.backprop_by_layer(7)
    text = window.math_panel.text.toPlainText()
    assert f"Sample 7: its own loss = {expected.loss:.6g}" in text
