# The two commands of the README. Both create and use the virtual environment in .venv.
.PHONY: demo test lint

demo:
	scripts/setup.sh
	.venv/bin/finsent --help

test:
	scripts/setup.sh train,dev
	.venv/bin/python -m pytest
