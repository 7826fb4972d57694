"""Properties of the parts without I/O: tool names, the progress parser and tracker, the
validation message, the project table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from replicate_typed.mcp.catalog import CatalogError, load_catalog, project_module
from replicate_typed.mcp.names import TOOL_NAME, tool_name, tool_names
from replicate_typed.mcp.progress import ProgressTracker, parse_progress
from replicate_typed.mcp.results import sniff_image
from replicate_typed.mcp.server import describe_validation
from replicate_typed.models import registry

PART = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789-_.", min_size=1, max_size=80)


@given(st.lists(st.tuples(PART, PART), unique=True, max_size=30))
def test_tool_names_are_valid_unique_and_depend_on_the_reference_alone(pairs) -> None:
    refs = sorted({f"{owner}/{name}" for owner, name in pairs})
    names = tool_names(refs)
    assert sorted(names.values()) == refs
    for name, ref in names.items():
        assert TOOL_NAME.match(name)
        assert tool_name(ref) == name
        assert tool_names([ref]) == {name: ref}


@given(PART, PART)
def test_plain_references_keep_their_readable_name(owner: str, name: str) -> None:
    ref = f"{owner}/{name}"
    plain = re.fullmatch(r"[A-Za-z0-9-]+", owner) and re.fullmatch(r"[A-Za-z0-9-]+", name)
    if plain and len(owner) + len(name) + 2 <= 64:
        assert tool_name(ref) == f"{owner}__{name}"
    else:
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,55}_[0-9a-f]{8}", tool_name(ref))


def test_a_generic_tool_name_is_reserved() -> None:
    with pytest.raises(ValueError):
        tool_names(["a/b"], reserved=frozenset({"a__b"}))


@pytest.mark.parametrize(
    ("logs", "expected"),
    [
        (" 45%|####      | 9/20 [00:03<00:04, 2.5it/s]\n", (9.0, 20.0)),
        ("Starting\n 10%|#         | 1/10\n 20%|##        | 2/10\n", (2.0, 10.0)),
        ("12/50 [00:01<00:04, 9.1it/s]", (12.0, 50.0)),
        ("loading 45%|", None),
        ("done 73%|#######   |\n", (73.0, 100.0)),
        ("date 2024/12/05 and ratio 3/4 in prose", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_progress(logs: str | None, expected: tuple[float, float] | None) -> None:
    found = parse_progress(logs)
    assert (None if found is None else (found.progress, found.total)) == expected


@given(
    st.lists(st.tuples(st.sampled_from(["starting", "processing", None]), st.text(max_size=300)))
)
def test_reported_progress_only_grows_and_stays_in_range(updates) -> None:
    tracker = ProgressTracker()
    sent = []
    logs = ""
    for status, chunk in updates:
        logs += chunk
        report = tracker.update(status, logs)
        if report is not None:
            sent.append(report.progress)
    final = tracker.finish("succeeded")
    if final is not None:
        sent.append(final.progress)
    assert sent == sorted(set(sent)) and all(0 <= p <= 100 for p in sent)
    assert not sent or sent[-1] == 100.0


def test_a_validation_message_names_field_and_rule_but_not_the_value() -> None:
    info = registry.get_model("black-forest-labs/flux-schnell")
    secret = "sk-not-to-be-echoed"
    with pytest.raises(ValidationError) as caught:
        info.input_type.model_validate_json(f'{{"prompt": "x", "num_outputs": 9, "{secret}": 1}}')
    text = describe_validation(caught.value, info.ref)
    assert "- num_outputs: " in text and "rule: less_than_equal (le=4)" in text
    assert "rule: extra_forbidden" in text
    assert "nothing was sent" in text


def test_sniff_image() -> None:
    assert sniff_image(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert sniff_image(b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert sniff_image(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_image(b"<html>") is None


def test_project_table(tmp_path: Path) -> None:
    assert project_module(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text(
        '[tool.replicate-typed]\nspecs = "specs"\npackage = "src/app/models"\n', encoding="utf-8"
    )
    assert project_module(tmp_path) == ("app.models", (tmp_path / "src").resolve())
    (tmp_path / "pyproject.toml").write_text(
        '[tool.replicate-typed]\npackage = "x"\nmodule = "os; rm"\n', encoding="utf-8"
    )
    with pytest.raises(CatalogError, match="module"):
        project_module(tmp_path)


def test_the_repository_itself_serves_the_built_in_models() -> None:
    root = Path(__file__).resolve().parents[2]
    assert [m.ref for m in load_catalog(project=root, builtin=False)] == sorted(registry)


async def test_output_content_for_text_json_and_data_uris() -> None:
    import base64
    from types import SimpleNamespace

    from replicate_typed.mcp.results import InlineLimits, output_content

    joined = SimpleNamespace(output_concatenate=True)
    plain = SimpleNamespace(output_concatenate=False)
    limits = InlineLimits()
    (text,) = await output_content(["Hel", "lo"], joined, limits)  # type: ignore[arg-type]
    assert text.type == "text" and text.text == "Hello"
    (text,) = await output_content([None, "Hel", None, "lo"], joined, limits)  # type: ignore[arg-type]
    assert text.text == "Hello"  # a null chunk is no text, never the word "None"
    (data,) = await output_content({"score": 0.5}, plain, limits)  # type: ignore[arg-type]
    assert data.type == "text" and '"score": 0.5' in data.text
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    (image,) = await output_content(uri, plain, limits)  # type: ignore[arg-type]
    assert image.type == "image" and base64.b64decode(image.data) == png
    big = await output_content(uri, plain, InlineLimits(max_image_bytes=8))  # type: ignore[arg-type]
    assert [b.type for b in big] == ["text"] and "not shown inline" in big[0].text
    none = await output_content(uri, plain, InlineLimits(max_images=0))  # type: ignore[arg-type]
    assert [b.type for b in none] == ["text"]
    fake = "data:image/png;base64," + base64.b64encode(b"<html>").decode()
    (note,) = await output_content(fake, plain, limits)  # type: ignore[arg-type]
    assert note.type == "text"  # not an image by its bytes: not inlined
