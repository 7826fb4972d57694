"""Test your own code against the built-in mock: the pytest plugin (``pytest_plugin``).

Installed with the package (entry point ``pytest11``), it gives any project's tests the fixtures
``replicate_mock`` (the mock server over real HTTP), ``replicate_respx`` (the same mock behind
respx, on a fake clock) and the overridable ``replicate_mock_config`` /
``replicate_mock_registry``. They need the ``[mock]`` extra (``replicate_respx`` also respx);
loading the plugin itself costs nothing and needs neither.
"""
