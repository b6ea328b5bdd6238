# Thin wrapper over CMake that also installs the Debian packages smtpsleuth
# needs. The two commands a new user types: `make run` and `make test`.

BUILD      ?= build
SAN_BUILD  ?= build-san
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
CORPUS     ?= $(abspath ../shared/corpus)

# Every Debian package a build or a test calls. `make deps` installs with
# --no-install-recommends, so a recommended package a test relies on is named
# here, never left to chance (`make fresh-test` proves the list on a fresh
# Debian 12 root).
#   build:  compiler, CMake, the libraries (zlib for .gz captures)
#   tests:  python3 (standard library only: smtplib, ssl, json), openssl;
#           tshark and wireshark-common (editcap, mergecap, capinfos) for the
#           differential tests; tcpdump (reads captures back); jq (JSON checks);
#           swaks with its TLS modules (Net::SSLeay, IO::Socket::SSL: swaks
#           only recommends them); iproute2, nftables, procps (namespaced
#           network tests: ip, nft, sysctl, ps); util-linux (runuser, setpriv,
#           unshare); curl; chromium with a font (HTML report tests)
#   fuzz:   clang and its libFuzzer/sanitizer runtimes (libclang-rt-14-dev,
#           only recommended by clang)
DEPS = build-essential cmake pkg-config libpcap-dev libndpi-dev check libsubunit-dev \
       libssl-dev zlib1g-dev \
       python3 openssl tshark wireshark-common tcpdump jq \
       swaks libnet-ssleay-perl libio-socket-ssl-perl \
       iproute2 nftables ethtool procps util-linux curl ca-certificates \
       chromium fonts-liberation \
       clang libclang-rt-14-dev
BENCH_DEPS = postfix time
# `make fresh-test` runs on this machine: debootstrap builds the fresh root.
FRESH_DEPS = debootstrap git iproute2
FRESH_BUILD ?= build-fresh

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT  := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get -o Dpkg::Use-Pty=0

.PHONY: all deps bench-deps fresh-deps build run test fresh-test bench fuzz fuzz-long captures clean install rules-doc deb

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
	@missing=""; for p in $(BENCH_DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  echo "postfix postfix/main_mailer_type select No configuration" | $(SUDO) debconf-set-selections; \
	  $(APT) update -qq && $(APT) install -y -qq --no-install-recommends $$missing; \
	fi

fresh-deps:
	@missing=""; for p in $(FRESH_DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(APT) update -qq && $(APT) install -y -qq --no-install-recommends $$missing; \
	fi

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

# The README's two commands on a fresh Debian 12 root (debootstrap, chroot):
# proves DEPS. Slow (4-15 min); not part of CI. See tests/fresh/fresh-test.sh.
fresh-test: fresh-deps
	$(SUDO) bash tests/fresh/fresh-test.sh $(FRESH_BUILD) $(CORPUS)

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
	printf '| target | seconds | executions | per second | CPU seconds | per CPU second | load | max input | coverage (edges) | features | result |\n|---|---|---|---|---|---|---|---|---|---|---|\n' > $(FUZZ_BUILD)/fuzz-long.md
	FUZZ_REPORT=$(abspath $(FUZZ_BUILD))/fuzz-long.md bash tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_LONG_SECONDS)

captures: build
	bash captures/make.sh $(BUILD)/smtpsleuth

install: build
	cmake --install $(BUILD)

# The Debian package (cmake/packaging.cmake): $(BUILD)/smtpsleuth_VERSION-1_ARCH.deb
deb: build
	cd $(BUILD) && cpack -G DEB

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD)

# Regenerates the reply-reading section of docs/RULES.md from the code's tables.
rules-doc: build
	@./$(BUILD)/rules_doc > $(BUILD)/rules_doc.md
	@python3 -c 'import sys; d=open("docs/RULES.md").read(); t=open(sys.argv[1]).read(); b="<!-- reply-table:begin -->\n"; e="<!-- reply-table:end -->"; i=d.index(b)+len(b); j=d.index(e); open("docs/RULES.md","w").write(d[:i]+t+d[j:])' $(BUILD)/rules_doc.md
	@echo "docs/RULES.md: reply table regenerated"
