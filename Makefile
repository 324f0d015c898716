# The two commands a new user needs: `make demo` and `make test`.
.PHONY: demo test test-under-load lint unit dev clean

demo:                 ## start the whole platform with a simulated ward (embedded servers)
	scripts/venv.sh embedded
	.venv/bin/vward demo

dev:                  ## a development environment with test and lint tools
	scripts/venv.sh dev,embedded

lint: dev             ## ruff, mypy --strict and import-linter
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports

test: dev             ## install/start PostgreSQL, Mosquitto and Chromium, then run every check and test
	scripts/services.sh
	$(MAKE) --no-print-directory lint
	.venv/bin/pytest -q -p no:cacheprovider --durations=25 --durations-min=5

test-under-load:      ## `make test` with both cores kept busy on purpose (scripts/test-under-load.sh)
	scripts/test-under-load.sh

unit: dev             ## the fast, pure tests only
	.venv/bin/pytest -q tests/unit

clean:
	rm -rf .venv .vward .pytest_cache .mypy_cache .ruff_cache
