"""The test suite (``make test``): unit, function (through functions-framework), contract,
emulator, infra and browser tests; fixtures in ``plugins/``. Never deployed."""
