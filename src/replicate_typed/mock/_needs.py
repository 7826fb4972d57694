"""Imported first by :mod:`replicate_typed.mock`: without the ``[mock]`` extra, one clear line."""

from replicate_typed._extras import require

require("mock", "the mock server (replicate_typed.mock)")
