# The two commands of the README. Both create and use the virtual environment in .venv.
# `make demo DEMO_ARGS="--no-browser --duration 180"` passes options to `finsent demo`.
.PHONY: demo test lint

demo:
	scripts/setup.sh
	.venv/bin/finsent demo $(DEMO_ARGS)

test:
	scripts/setup.sh train,dev
	.venv/bin/python -m pytest
