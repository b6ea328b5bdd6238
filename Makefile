# Thin wrapper over CMake that also installs the Debian packages smtpsleuth
# needs. The two commands a new user types: `make run` and `make test`.

BUILD      ?= build
SAN_BUILD  ?= build-san
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
CORPUS     ?= $(abspath ../shared/corpus)

# Build and run-time packages; test tools (tshark, tcpdump, swaks, jq, clang,
# chromium for the --html page's test) are installed too so `make test` runs
# every test on a fresh machine.
DEPS = build-essential cmake pkg-config libpcap-dev libndpi-dev check libsubunit-dev \
       libssl-dev openssl python3 tshark tcpdump swaks jq clang chromium zlib1g-dev
BENCH_DEPS = postfix

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT  := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get

.PHONY: rules-doc all deps bench-deps build run test bench fuzz fuzz-long captures clean install

all: build

deps:
	@missing=""; for p in $(DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  echo "wireshark-common wireshark-common/install-setuid boolean false" | $(SUDO) debconf-set-selections 2>/dev/null || true; \
	  $(APT) update -qq && $(APT) install -y -qq --no-install-recommends $$missing; \
	fi

bench-deps: deps
	@dpkg-query -W -f='$${Status}' postfix 2>/dev/null | grep -q "ok installed" || { \
	  echo "postfix postfix/main_mailer_type select No configuration" | $(SUDO) debconf-set-selections; \
	  $(APT) install -y -qq --no-install-recommends $(BENCH_DEPS); }

$(BUILD)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

run: build
	@./$(BUILD)/smtpsleuth analyze captures/*.pcap

# The test build: sanitizers on, warnings are errors.
test: deps
	cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSLEUTH_SANITIZE=ON -DSLEUTH_WERROR=ON -DSLEUTH_CORPUS=$(CORPUS)
	cmake --build $(SAN_BUILD) -j $(JOBS)
	cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

bench: bench-deps build
	bash tests/bench/run.sh $(BUILD)

fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSLEUTH_FUZZ=ON -DSLEUTH_SANITIZE=ON
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	bash tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Every fuzz target for FUZZ_SECONDS each (given on the command line or in
# the environment; else 1800: 30 minutes); the per-target rows (executions,
# rate, coverage) go to $(FUZZ_BUILD)/fuzz-long.md for docs/fuzzing.md.
FUZZ_LONG_SECONDS = $(if $(filter command line environment,$(origin FUZZ_SECONDS)),$(FUZZ_SECONDS),1800)
fuzz-long: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSLEUTH_FUZZ=ON -DSLEUTH_SANITIZE=ON
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	printf '| target | seconds | executions | per second | coverage (edges) | features | result |\n|---|---|---|---|---|---|---|\n' > $(FUZZ_BUILD)/fuzz-long.md
	FUZZ_REPORT=$(abspath $(FUZZ_BUILD))/fuzz-long.md bash tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_LONG_SECONDS)

captures: build
	bash captures/make.sh $(BUILD)/smtpsleuth

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD)

# Regenerates the reply-reading section of docs/RULES.md from the code's tables.
rules-doc: build
	@./$(BUILD)/rules_doc > $(BUILD)/rules_doc.md
	@python3 -c 'import sys; d=open("docs/RULES.md").read(); t=open(sys.argv[1]).read(); b="<!-- reply-table:begin -->\n"; e="<!-- reply-table:end -->"; i=d.index(b)+len(b); j=d.index(e); open("docs/RULES.md","w").write(d[:i]+t+d[j:])' $(BUILD)/rules_doc.md
	@echo "docs/RULES.md: reply table regenerated"
