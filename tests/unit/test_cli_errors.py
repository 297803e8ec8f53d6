"""`latchkey`'s last line of defence (shared.cli.main): every failure is one stderr line and a
status; a broken pipe is quiet only when it is standard output's reader that went away."""

from __future__ import annotations

import argparse

import pytest

from shared.cli import main as cli


def parser_running(handler) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    parser.set_defaults(handler=handler)
    return parser


def test_a_broken_pipe_to_a_server_is_an_error_line(monkeypatch, capsys):
    def handler(args, env):
        raise BrokenPipeError(32, "Broken pipe")  # a socket's, while standard output is fine

    monkeypatch.setattr(cli, "build_parser", lambda: parser_running(handler))
    assert cli.main([]) == 1
    assert capsys.readouterr().err == "latchkey: error: BrokenPipeError: [Errno 32] Broken pipe\n"


@pytest.mark.parametrize(("raised", "status"), [(ConnectionRefusedError(111, "Connection refused"), 1),
                                                (KeyboardInterrupt(), 130)])
def test_other_failures_keep_their_status(monkeypatch, capsys, raised, status):
    def handler(args, env):
        raise raised

    monkeypatch.setattr(cli, "build_parser", lambda: parser_running(handler))
    assert cli.main([]) == status
