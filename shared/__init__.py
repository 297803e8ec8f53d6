"""Latchkey's shared package (config, stores, keys, errors, CLI)."""

import sys

# redis-py (8.x) imports the OpenTelemetry metrics SDK at import time whenever it is installed
# (latchkey[tracing], the dev install), only to offer client metrics that Latchkey never turns
# on: its metrics are Prometheus, its OpenTelemetry use is traces. That import pulls in psutil
# and the SDK's resource detection, about 3 MiB in every service process (issue 9 §7). Marking
# the module absent makes redis-py take its "OpenTelemetry not installed" path; tracing does not
# use it (shared/web/tracing.py; tests/test_service_imports.py checks both).
sys.modules.setdefault("opentelemetry.sdk.metrics", None)  # type: ignore[arg-type]
