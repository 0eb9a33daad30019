# Everyday tasks. CI runs .ci/run, which does lint, typecheck and test in a fresh venv.
PY ?= python

.PHONY: lint typecheck test test-pg bench bench-full demo

lint:
	ruff check .

typecheck:
	mypy

test:
	pytest

test-pg:
	THIDUA_TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test pytest

bench:
	$(PY) bench/sender_throughput.py 300

# Issue 14's benchmarks at full size (docs/benchmarks.md); bench.digest and bench.export
# need PostgreSQL.
bench-full:
	for b in startup conversation broadcast digest export; do $(PY) -m bench.$$b --size full || exit 1; done

demo:
	thidua demo
