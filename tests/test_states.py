import itertools

import pytest

from app.domain.states import TRANSITIONS, IllegalTransition, State, can_transition, transition

ALLOWED = {
    (State.PENDING, State.RUNNING),
    (State.PENDING, State.PAUSED),
    (State.PENDING, State.CANCELED),
    (State.PENDING, State.FAILED),
    (State.RUNNING, State.PAUSING),
    (State.RUNNING, State.COMPLETING),
    (State.RUNNING, State.CANCELING),
    (State.RUNNING, State.FAILED),
    (State.RUNNING, State.PENDING),
    (State.PAUSING, State.PAUSED),
    (State.PAUSING, State.CANCELING),
    (State.PAUSING, State.FAILED),
    (State.PAUSED, State.PENDING),
    (State.PAUSED, State.RUNNING),
    (State.PAUSED, State.CANCELING),
    (State.PAUSED, State.CANCELED),
    (State.COMPLETING, State.COMPLETED),
    (State.COMPLETING, State.FAILED),
    (State.CANCELING, State.CANCELED),
    (State.CANCELING, State.FAILED),
    (State.FAILED, State.PENDING),
}


def test_there_are_nine_states() -> None:
    assert len(State) == 9
    assert set(TRANSITIONS) == set(State)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(State, State)))
def test_every_transition_is_allowed_or_refused_as_designed(current: State, target: State) -> None:
    if (current, target) in ALLOWED:
        assert can_transition(current, target)
        assert transition(current, target) is target
    else:
        assert not can_transition(current, target)
        with pytest.raises(IllegalTransition) as caught:
            transition(current, target)
        assert current.value in str(caught.value)


def test_refusal_says_what_is_possible() -> None:
    with pytest.raises(
        IllegalTransition, match=r"cannot pause a job that is completed \(completed is final\)"
    ):
        transition(State.COMPLETED, State.PAUSING)
    with pytest.raises(IllegalTransition, match="can only move to pending"):
        transition(State.FAILED, State.RUNNING, what="item")


def test_terminal_states_have_no_way_out() -> None:
    for state in State:
        assert state.is_terminal == (not TRANSITIONS[state])
