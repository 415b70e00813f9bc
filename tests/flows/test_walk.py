"""`flask flows walk` prints a whole call, turn by turn, without touching the real database."""

from __future__ import annotations

from app.calls.models import Call
from tests.support import count_rows


def test_walk_plays_an_outbound_call_in_italian(app):
    result = app.test_cli_runner().invoke(
        args=[
            "flows",
            "walk",
            "transaction_alert",
            "--lang",
            "it",
            "--digits",
            "1,908172,1",
            "--code",
            "908172",
        ]
    )

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("transaction_alert (it), outbound call")
    assert "  CALL   Non Le chiederemo mai la password" in result.output
    assert "  CALLEE keys in 6 digits" in lines  # a code is never printed
    assert "908172" not in result.output
    assert "  CALLEE presses 1" in lines
    assert lines[-1] == (
        "status: completed; outcome: confirmed; events: initiated, ringing, in-progress, completed"
    )
    assert count_rows(app, Call) == 0  # the walk ran on a throwaway database


def test_walk_plays_an_inbound_line_in_chinese(app):
    result = app.test_cli_runner().invoke(
        args=["flows", "walk", "complaints_line", "--lang", "zh", "--digits", "1,5"]
    )

    assert result.exit_code == 0, result.output
    assert "  CALL   您已接通Demo Bank投诉热线。为了处理您的投诉，本次通话将被录音。" in (
        result.output
    )
    assert "  CALLEE speaks for 15 seconds" in result.output
    assert "outcome: recorded" in result.output
    assert "您的投诉编号是C" in result.output.replace(" ", "")  # the reference, read back


def test_walk_plays_the_service_line_up_to_the_queue(app):
    # The walk has no queue for people: nobody can take the call, and the caller hears so.
    result = app.test_cli_runner().invoke(
        args=[
            "flows",
            "walk",
            "service_line",
            "--lang",
            "pl",
            "--digits",
            "1,908172,1",
            "--code",
            "908172",
        ]
    )

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("service_line (pl), inbound call")
    assert "  CALLEE keys in 6 digits" in lines and "  CALLEE presses 1" in lines
    assert not any("łączymy" in line for line in lines)  # "connecting you" only when queued
    said = [line for line in lines if line.startswith("  CALL   ")]
    assert said[-1].startswith("  CALL   Przepraszamy, w tej chwili nikt z naszego zespołu")
    assert "908172" not in result.output


def test_walk_names_the_flows_when_given_an_unknown_one(app):
    result = app.test_cli_runner().invoke(args=["flows", "walk", "nope"])

    assert result.exit_code == 2
    assert "no flow 'nope'; there are: account_change_check" in result.output
