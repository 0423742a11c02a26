"""``python -m mnist_core predict`` as a user runs it: real processes, real files, real exit codes."""

from __future__ import annotations

import json
import subprocess

from PIL import Image

from mnist_core import config
from mnist_core.cli import main
from tests.support.processes import run_cli

IMG1 = config.ASSETS_DIR / "img1.jpg"
SAMPLES = sorted(config.ASSETS_DIR.glob("sample_*_*.*"))


def predict(*args: str) -> subprocess.CompletedProcess:
    return run_cli("predict", *args)


def json_lines(result: subprocess.CompletedProcess) -> list[dict]:
    assert "Traceback" not in result.stderr, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_every_sample_gets_its_digit_and_exit_0(digit_model_path):
    result = predict(str(IMG1), *map(str, SAMPLES), "--model", str(digit_model_path), "--json")
    assert result.returncode == 0, result.stderr
    answers = json_lines(result)
    assert [answer["file"] for answer in answers] == [str(IMG1), *map(str, SAMPLES)]
    assert answers[0]["digit"] == 3
    for path, answer in zip(SAMPLES, answers[1:], strict=True):
        assert answer["digit"] == int(path.name.split("_")[1]), answer
        assert set(answer) == {"file", "digit", "confidence", "probabilities", "number", "digits"}
        assert answer["number"] == str(answer["digit"]) and len(answer["digits"]) == 1
        assert set(answer["digits"][0]) == {"digit", "confidence", "probabilities", "box"}
        assert len(answer["probabilities"]) == 10 and answer["confidence"] == max(answer["probabilities"])


def test_awkward_files_get_one_answer_each_and_exit_1(digit_model_path, awkward_files):
    paths = [str(path) for path, _ in awkward_files.values()]
    result = predict(*paths, "--model", str(digit_model_path), "--json")
    assert result.returncode == 1, result.stderr
    answers = json_lines(result)
    assert [answer["file"] for answer in answers] == paths
    for (name, (_, expected)), answer in zip(awkward_files.items(), answers, strict=True):
        if isinstance(expected, int):
            assert answer.get("digit") == expected, (name, answer)
        else:
            assert set(answer) == {"file", "error"} and expected in answer["error"], (name, answer)


def test_readable_output_is_one_line_per_file(digit_model_path, tmp_path, capsys):
    empty, blank = tmp_path / "empty.png", tmp_path / "blank.png"
    empty.write_bytes(b"")
    Image.new("L", (200, 100), 255).save(blank)
    assert main(["predict", str(IMG1), "--model", str(digit_model_path)]) == 0
    assert capsys.readouterr().out.startswith(f"{IMG1}: 3 (")
    assert main(["predict", str(empty), str(IMG1), str(blank), "--model", str(digit_model_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{empty}: error: the file is empty"
    assert lines[1].startswith(f"{IMG1}: 3 (")
    assert lines[2].startswith(f"{blank}: error: no digit found")
    assert len(lines) == 3


def test_a_model_that_cannot_be_loaded_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["predict", str(IMG1), "--model", str(tmp_path / "missing.keras")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"error: model file not found: {tmp_path / 'missing.keras'}\n"
