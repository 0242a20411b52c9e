# Lockstep: `make train` runs the main job on the built-in data, `make test` passes the tests.
# Both install the system libraries they need (OpenBLAS, libnuma, OpenSSL's libcrypto, fast_float, xxHash, OpenMPI) with apt-get when missing,
# and the tests' Python side (numpy, safetensors, onnx, onnxruntime) with pip.

SWIFT ?= swift
APT_PACKAGES = libopenblas-dev libnuma-dev libssl-dev libfast-float-dev libxxhash-dev pkg-config openmpi-bin libopenmpi-dev iproute2
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build train test check-layers test-unit test-tsan test-mpi test-asan test-pytorch fuzz bench clean

all: build

deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@command -v python3 >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3 python3-pip; }
	@python3 -c "import numpy, safetensors, onnx, onnxruntime" 2>/dev/null || { \
	  echo "installing numpy safetensors onnx onnxruntime (pip)"; \
	  python3 -m pip --version >/dev/null 2>&1 || $(SUDO) apt-get install -y -qq python3-pip; \
	  python3 -m pip install --quiet numpy safetensors onnx onnxruntime 2>/dev/null \
	    || python3 -m pip install --quiet --break-system-packages numpy safetensors onnx onnxruntime; }

build: deps
	$(SWIFT) build

# The main job: `lockstep train --workers 8` on the built-in line y = 0.7·x + 0.3.
train: deps
	$(SWIFT) build -c release --product lockstep
	.build/release/lockstep train --workers 8

# All tests, then the parallel ones again under ThreadSanitizer (its own build folder), then the
# MPI job end to end (the CLI built with the trait MPI, its own build folder).
test: check-layers test-unit test-tsan test-mpi

# The library's folders use only the layers below them (ARCHITECTURE.md).
check-layers:
	python3 Scripts/check-layers.py

# Optimized, as users run it (the zero-allocation contract is about optimized builds);
# -enable-testing lets the tests see internal API.
test-unit: deps
	$(SWIFT) test -c release -Xswiftc -enable-testing

# The engine, the coordinator (checkpoints, resume) and the CLI end to end (signals, the console,
# the metrics writer, run folders): the `lockstep` binary these run is the instrumented one.
test-tsan: deps
	$(SWIFT) test --sanitize=thread --scratch-path .build-tsan \
	  --filter 'Parallel|Trainer|WorkersBeyondThreads|Processes|Barrier|Communicator|Collectives|WorkerPool|Stress|KillAndResume|TrainCommandEndToEnd|OutputsAndCheckpoints'

# `mpirun -np P lockstep train --workers W` against `lockstep train --workers P·W`, byte for byte;
# a killed rank, an interrupted and resumed job, a process on other data (Tests/MPI/run.sh).
test-mpi: deps
	$(SWIFT) build -c release --traits MPI --scratch-path .build-mpi --product lockstep
	bash Tests/MPI/run.sh .build-mpi/release/lockstep

# The whole suite under AddressSanitizer (debug, its own build folder). Leak checking is off: the
# toolchain's XCTest and Foundation leak at exit (the fuzzers check leaks per input instead).
# The zero-allocation tests skip themselves: ASan's runtime owns malloc, so counting is off.
test-asan: deps
	ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test --sanitize=address --scratch-path .build-asan

# The checks that need PyTorch itself (several GB in .build-torch-venv; CI runs them as a stage).
test-pytorch: deps
	bash Scripts/pytorch-checks.sh

# libFuzzer on every reader of outside bytes, FUZZ_SECONDS (default 60) each; see Fuzz/run.sh.
FUZZ_SECONDS ?= 60
fuzz: deps
	bash Fuzz/run.sh $(FUZZ_SECONDS)

bench: deps
	$(SWIFT) build -c release --product lockstep-bench
	.build/release/lockstep-bench

clean:
	rm -rf .build .build-tsan .build-static .build-asan .build-fuzz .build-mpi
