"""Secret values never reach an output: exact values, their lines, their base64, and values cut
in two by the chunks a stream arrives in."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from poc_runner.masking import MASK, Masker
from poc_runner.sandbox.capture import Capture


def masker(*secrets: str) -> Masker:
    made = Masker()
    for secret in secrets:
        made.add(secret)
    return made


def test_nothing_registered_changes_nothing() -> None:
    assert masker().mask("token s3cr3t") == "token s3cr3t"
    assert not masker().active


def test_exact_values_and_base64_forms_are_masked() -> None:
    secret = "s3cr3t-T0ken"
    encoded = base64.b64encode(secret.encode()).decode().rstrip("=")
    text = f"Authorization: Bearer {secret}; basic {encoded}"
    assert masker(secret).mask(text) == f"Authorization: Bearer {MASK}; basic {MASK}"


def test_each_line_of_a_multi_line_secret_is_masked_but_not_short_lines() -> None:
    secret = '{\n  "key": "abc123456",\n  "id": "xyz98765"\n}'
    masked = masker(secret).mask('printed: "key": "abc123456", then "id": "xyz98765" {}')
    assert "abc123456" not in masked and "xyz98765" not in masked
    assert masked.endswith("{}")  # one-character lines of the secret are not masked


def test_the_longest_secret_wins_when_one_contains_another() -> None:
    assert masker("abcd", "abcdefgh").mask("xx abcdefgh yy abcd") == f"xx {MASK} yy {MASK}"


def test_empty_secrets_are_ignored() -> None:
    assert not masker("").active


@given(
    st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=30),
    st.text(alphabet="ab-", max_size=40),
)
def test_a_stream_in_any_chunking_is_masked_as_the_whole(cuts: list[int], noise: str) -> None:
    secret = "ab-secret-ba"
    whole = f"{noise}{secret}{noise}{secret}{noise}".encode()
    stream = masker(secret).stream()
    out, position = b"", 0
    for size in cuts:
        out += stream.feed(whole[position : position + size])
        position += size
    out += stream.feed(whole[position:]) + stream.flush()
    assert out == masker(secret).mask_bytes(whole)
    assert secret.encode() not in out


def test_capture_masks_what_it_writes_and_keeps(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import poc_runner.sandbox.capture as capture

    monkeypatch.setattr(capture, "SECRETS", masker("hunter2-pass"))
    kept = Capture(tmp_path / "out")
    for chunk in (b"password=hunt", b"er2-pass\n", b"done\n"):
        kept.write(chunk)
    kept.close()
    assert (tmp_path / "out").read_bytes() == f"password={MASK}\ndone\n".encode()
    assert kept.text() == f"password={MASK}\ndone\n"


def test_result_json_masks_secrets_json_would_escape_and_survives_surrogates(
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    import json

    import poc_runner.result as result_module
    from poc_runner.result import RunResult

    monkeypatch.setattr(result_module, "SECRETS", masker('pa"ss\\word'))
    result = RunResult("demo", "run", "now", error='login with pa"ss\\word failed \ud800')
    text = result.to_json()
    assert "word" not in text
    assert json.loads(text)["error"] == "login with *** failed ?"
