"""Secret values never reach an output: exact values, their lines, their case, hex, URL and
base64 forms, and forms cut in two by the chunks a stream arrives in."""

from __future__ import annotations

import base64
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from poc_runner.masking import MASK, Masker
from poc_runner.sandbox.capture import Capture

SECRET = "Tok/en+9f é!x>?"  # "/", "+", " ", "é", "!": every form differs, base64's "+" too
RAW = SECRET.encode()


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


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(SECRET.upper(), id="upper-case"),
        pytest.param(SECRET.lower(), id="lower-case"),
        pytest.param(RAW.hex(), id="hex"),
        pytest.param(RAW.hex().upper(), id="HEX"),
        pytest.param(quote(SECRET), id="quote"),
        pytest.param(quote(SECRET, safe=""), id="quote-everything"),
        pytest.param(quote_plus(SECRET), id="quote_plus"),
        pytest.param("Tok%2fen%2b9f%20%c3%a9%21x%3e%3f", id="quote-lower-hex"),
        pytest.param("Tok%2fen%2b9f+%c3%a9%21x%3e%3f", id="quote_plus-lower-hex"),
        pytest.param("Tok%2Fen%2B9f%20%C3%A9!x%3E%3F", id="encodeURIComponent"),
        pytest.param(base64.b64encode(RAW).decode(), id="base64"),
        pytest.param(base64.b64encode(RAW).decode().rstrip("="), id="base64-unpadded"),
        pytest.param(base64.urlsafe_b64encode(RAW).decode(), id="base64-urlsafe"),
    ],
)
def test_every_encoded_form_of_a_secret_is_masked(form: str) -> None:
    assert form != SECRET
    assert masker(SECRET).mask(f"[{form}]") in {f"[{MASK}]", f"[{MASK}=]", f"[{MASK}==]"}


@pytest.mark.parametrize("before", [b"", b"u", b"us", b"user:", b"user:p", b"user:pa"])
@pytest.mark.parametrize("after", [b"", b"@", b"@h", b"@host"])
def test_base64_of_a_longer_text_holding_the_secret_is_masked_at_every_offset(
    before: bytes, after: bytes
) -> None:
    secret = b"p4ssw0rd-42"
    encoded = base64.b64encode(before + secret + after).decode()
    first = -(-8 * len(before) // 6)  # the first digit holding only bits of the secret
    after_last = 8 * len(before + secret) // 6  # the first digit holding bits of `after`
    head, mask, tail = masker(secret.decode()).mask(encoded).partition(MASK)
    assert (head, mask) == (encoded[:first], MASK)
    assert encoded.endswith(tail) and len(tail) <= len(encoded) - after_last


def test_base64_pieces_too_short_to_tell_from_other_base64_are_not_masked() -> None:
    secret = "k3y-5"  # 5 bytes: a piece at an offset is 6 digits, any image could hold it
    embedded = base64.b64encode(b"x" + secret.encode() + b"yz").decode()
    assert masker(secret).mask(embedded) == embedded
    assert masker(secret).mask(base64.b64encode(secret.encode()).decode()) == f"{MASK}="


def test_short_secrets_are_masked_exactly_but_not_in_other_forms() -> None:
    text = "ABC 616263 YWJj abc"
    assert masker("abc").mask(text) == f"ABC 616263 YWJj {MASK}"


def test_secrets_sharing_a_prefix_are_each_masked() -> None:
    shared = masker("prefix-one-1111", "prefix-two-2222", "prefix")
    assert shared.mask("prefix-two-2222 prefix-one-1111 prefix-t") == f"{MASK} {MASK} {MASK}-t"


def test_found_names_the_secret_forms_a_text_holds() -> None:
    found = masker(SECRET).found(f"token={SECRET} hex={RAW.hex()} plain")
    assert found == {SECRET, RAW.hex()}
    assert masker(SECRET).found("plain") == set()
    assert masker().found(SECRET) == set()


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
    st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=30),
    st.text(alphabet="ab-%", max_size=20),
)
def test_a_stream_in_any_chunking_is_masked_as_the_whole(cuts: list[int], noise: str) -> None:
    secret = "ab-sé/cret"
    forms = [secret, secret.upper(), secret.encode().hex(), quote(secret, safe="")]
    whole = noise.join(["", *forms, ""]).encode()
    stream = masker(secret).stream()
    out, position = b"", 0
    for size in cuts:
        out += stream.feed(whole[position : position + size])
        position += size
    out += stream.feed(whole[position:]) + stream.flush()
    assert out.decode() == masker(secret).mask(whole.decode())
    assert not any(form.encode() in out for form in forms)
    assert stream.seen == set(forms)


def test_the_stream_holds_back_the_longest_form_in_bytes() -> None:
    secret = "éééé"  # 8 bytes; percent-encoded, 24
    longest = quote(secret).encode()
    made = masker(secret)
    assert made.longest == len(longest)
    stream = made.stream()
    out = b"".join(stream.feed(longest[i : i + 1]) for i in range(len(longest)))
    assert out + stream.flush() == MASK.encode()


def test_capture_masks_what_it_writes_and_keeps(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from poc_runner.sandbox import capture

    monkeypatch.setattr(capture, "SECRETS", masker("hunter2-pass"))
    kept = Capture(tmp_path / "out")
    for chunk in (b"password=hunt", b"er2-pass\n", b"done\n"):
        kept.write(chunk)
    kept.close()
    assert (tmp_path / "out").read_bytes() == f"password={MASK}\ndone\n".encode()
    assert kept.text() == f"password={MASK}\ndone\n"
    assert kept.seen == {"hunter2-pass"}


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
