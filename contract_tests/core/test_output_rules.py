"""What a server may hand us in an output: only http(s)/data URLs become FileOutputs, a text
iterator's chunks are text, and one rule for a succeeded prediction with no output."""

from __future__ import annotations

from typing import Any

import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from contract_tests.client.test_client_helpers import PID, TOKEN, prediction
from replicate_typed.client import Client, errors
from replicate_typed.client.outputs import succeeded_output
from replicate_typed.core.field_types import FileOutput
from replicate_typed.core.model import ModelInfo, ModelInput
from replicate_typed.models.stability_ai import sdxl
from replicate_typed.types.api import Prediction

BASE = "https://api.replicate.com"
TEXT_ITERATOR = {
    "type": "array",
    "items": {"type": "string"},
    "x-cog-array-type": "iterator",
    "x-cog-array-display": "concatenate",
}


def info(output_type: Any, output_schema: dict[str, Any] | None = None) -> ModelInfo[Any, Any]:
    return ModelInfo(
        owner="acme",
        name="m",
        version=None,
        call_by="path",
        input_type=ModelInput,
        output_type=output_type,
        input_schema={},
        output_schema=output_schema or {},
    )


def done(output: Any = None, **extra: Any) -> Prediction:
    return Prediction.model_validate({"id": PID, "status": "succeeded", "output": output, **extra})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
url_like = st.sampled_from(
    ["", "/tmp/x.png", "out.png", "file:///etc/passwd", "ftp://h/x", "javascript:alert(1)",
     "http:/x", "https://", "HTTPS://h/a.png", "https://h/a.png", "http://h:8/a", "data:,hi",
     "data:image/png;base64,AAAA", "s3://bucket/k", "//h/a.png"]
) | st.text()  # fmt: skip


def _ok_url(value: str) -> bool:
    lowered = value.lower()
    return (
        lowered.startswith(("http://", "https://"))
        and len(value.split("://", 1)[1]) > 0
        or (lowered.startswith("data:") and "," in value)
    )


@settings(max_examples=120, deadline=None)
@given(value=json_values | url_like | st.lists(url_like, max_size=4))
def test_file_positions_yield_only_http_or_data_file_outputs(value: Any) -> None:
    for model in (info(FileOutput), info(list[FileOutput])):
        try:
            result = succeeded_output(done(value), model)
        except errors.OutputValidationError as exc:
            assert exc.prediction_id == PID
            assert "output" in str(exc)  # names the field (output, output[2])
            continue
        for item in result if isinstance(result, list) else [result]:
            assert isinstance(item, FileOutput)
            assert item.scheme in ("http", "https", "data"), item
            assert _ok_url(item), item


@pytest.mark.parametrize(
    "bad", ["", "/tmp/out.png", "out.png", "file:///etc/passwd", "ftp://h/x", "javascript:x"]
)
def test_a_bad_file_output_names_the_field(bad: str) -> None:
    with pytest.raises(errors.OutputValidationError, match=r"output\[1\]: a file output must"):
        succeeded_output(done(["https://h/a.png", bad]), info(list[FileOutput]))


@settings(max_examples=120, deadline=None)
@given(chunks=st.lists(json_values, max_size=8))
def test_text_iterator_chunks_are_text(chunks: list[Any]) -> None:
    model = info(str, TEXT_ITERATOR)
    try:
        text = succeeded_output(done(chunks), model)
    except errors.OutputValidationError as exc:
        assert any(c is not None and not isinstance(c, str) for c in chunks)
        assert "output[" in str(exc) and "text iterator" in str(exc)
        return
    assert all(c is None or isinstance(c, str) for c in chunks)
    assert text == "".join(c for c in chunks if isinstance(c, str))


def test_null_chunk_is_skipped_and_a_nested_list_refused() -> None:
    model = info(str, TEXT_ITERATOR)
    assert succeeded_output(done(["Hel", None, "lo"]), model) == "Hello"
    with pytest.raises(errors.OutputValidationError, match=r"output\[1\]"):
        succeeded_output(done(["a", ["b"]]), model)


def test_one_rule_for_a_success_without_output() -> None:
    files = info(list[FileOutput])
    with pytest.raises(errors.NoOutputError, match="produced no output") as caught:
        succeeded_output(done(None), files)
    assert caught.value.prediction_id == PID
    with pytest.raises(errors.OutputRemovedError):
        succeeded_output(done(None, data_removed=True), files)
    with pytest.raises(errors.OutputValidationError, match="no output field"):
        succeeded_output(Prediction.model_validate({"id": PID, "status": "succeeded"}), files)
    assert succeeded_output(done(None), info(FileOutput | None)) is None  # null is its value
    assert succeeded_output(done([]), files) == []  # an empty list is an output


def test_run_follows_the_same_rule(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(f"{BASE}/v1/predictions").respond(
        201, json=prediction("succeeded", output=None)
    )
    with Client(api_token=TOKEN, base_url=BASE) as client:
        with pytest.raises(errors.NoOutputError) as caught:
            client.run(sdxl.Input(prompt="x"))
    assert caught.value.prediction_id == PID
