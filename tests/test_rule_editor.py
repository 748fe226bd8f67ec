"""The rule editor: scheduling rules as a form, checked as you type, with a YAML round trip."""

from __future__ import annotations

import yaml
from PySide6.QtCore import QTime
from pytestqt.qtbot import QtBot

from app.domain.dispatch import SchedulingConfig
from app.ui.rule_editor import RuleEditor


def editor(qtbot: QtBot) -> RuleEditor:
    widget = RuleEditor()
    qtbot.addWidget(widget)
    return widget


def test_a_new_rule_is_a_valid_time_window_the_form_can_change(qtbot: QtBot) -> None:
    rules = editor(qtbot)
    rules.add_rule()
    assert rules.problem.text() == "" and rules.problems() == []
    rules.name.setText("Nights only")
    rules.window_start.setTime(QTime(22, 0))
    rules.window_end.setTime(QTime(6, 0))
    rules.action.setCurrentIndex(rules.action.findData("delay"))
    rules.days[5].setChecked(True)  # Saturday
    rules.days[6].setChecked(True)
    rules.max_concurrent.setValue(2)
    rules.interval.setValue(30)
    assert rules.rules == [
        {
            "id": "rule-1", "name": "Nights only", "type": "time_based", "enabled": True,
            "settings": {"time_window": "22:00-06:00", "action": "delay",
                         "days_of_week": ["sat", "sun"], "max_concurrent": 2,
                         "min_interval_ms": 1_800_000},
        }
    ]  # fmt: skip
    assert rules.listing.item(0).text() == "Nights only"
    config = SchedulingConfig.from_dict({"rules": yaml.safe_load(rules.yaml_text())})
    assert config.rules[0].time_window is not None and config.rules[0].max_concurrent == 2


def test_mistakes_are_named_as_you_type_and_cleared_when_fixed(qtbot: QtBot) -> None:
    rules = editor(qtbot)
    rules.add_rule()
    rules.window_end.setTime(QTime(9, 0))  # the same as the start
    assert rules.problem.text() == 'Time window: "09:00-09:00" starts and ends at the same time'
    rules.window_end.setTime(QTime(10, 0))
    assert rules.problem.text() == ""
    rules.kind.setCurrentIndex(rules.kind.findData("content_based"))
    assert rules.problem.text() == "This rule needs tags."
    assert rules.problems() == ["“Rule 1”, settings: a content rule needs tags"]
    rules.tags.setText("science, Space")
    assert rules.problem.text() == ""
    assert rules.rules[0]["settings"]["content_tags"] == ["science", "Space"]
    rules.add_rule()
    rules.remove_rule()
    assert [r["id"] for r in rules.rules] == ["rule-1"]


def test_yaml_round_trip_both_ways(qtbot: QtBot) -> None:
    rules = editor(qtbot)
    given = [
        {"id": "vip", "name": "High only", "type": "priority_based", "enabled": False,
         "settings": {"priority_threshold": "high"}},
        {"id": "weekdays", "name": "Weekdays", "type": "time_based",
         "settings": {"days_of_week": ["mon", "tue", "wed", "thu", "fri"]}},
    ]  # fmt: skip
    rules.set_rules(given)
    assert rules.threshold.currentData() == "high" and not rules.enabled.isChecked()
    rules.listing.setCurrentRow(1)
    assert [t.isChecked() for t in rules.days] == [True] * 5 + [False] * 2
    rules.as_yaml.setChecked(True)
    assert yaml.safe_load(rules.text.toPlainText())[0]["id"] == "vip"
    rules.text.setPlainText(
        "- id: tags\n  name: Science\n  type: content_based\n  settings: {content_tags: [sci]}\n"
    )
    rules.as_yaml.setChecked(False)  # back to the form: it shows what the YAML said
    assert rules.listing.count() == 1 and rules.tags.text() == "sci"
    assert rules.kind.currentData() == "content_based"
    rules.as_yaml.setChecked(True)
    rules.text.setPlainText("- id: x\n  name: [unclosed\n")
    rules.as_yaml.setChecked(False)  # not YAML: it stays in YAML, saying why
    assert rules.as_yaml.isChecked() and "not a list of rules" in rules.problem.text()
    assert rules.yaml_text().startswith("- id: x")
