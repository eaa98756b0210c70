# The results portal: one page. `make run` and `make test` are the two commands a newcomer needs.
.SUFFIXES:

CC       ?= cc
PKGS     := libmicrohttpd libpq jansson libjwt libargon2 libcrypto libcurl
WARN     := -Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wvla -Wcast-qual
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude $(PKG_CFLAGS) -MMD -MP $(CFLAGS)
LDLIBS   = $(PKG_LIBS) -lpthread
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

B        ?= build
SRC      := $(wildcard server/*.c)
# The message catalogues (po/LANG.po), compiled by msgfmt and linked in as build/gen/catalogues.c.
LANGS    := es fr
OBJ      := $(SRC:server/%.c=$(B)/obj/%.o) $(B)/obj/catalogues.o
ASAN_OBJ := $(SRC:server/%.c=$(B)/asan/obj/%.o) $(B)/asan/obj/catalogues.o
PAGE_CATALOGUES := $(LANGS:%=static/i18n/%.json)
LIB_OBJ  := $(filter-out $(B)/obj/main.o,$(OBJ))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/asan/tests/%)

all: $(B)/portald $(PAGE_CATALOGUES)

$(B)/portald: $(OBJ)
	$(CC) $(CFLAGS) -o $@ $(OBJ) $(LDLIBS)

$(B)/asan/portald: $(ASAN_OBJ)
	$(CC) $(CFLAGS) $(SAN) -o $@ $(ASAN_OBJ) $(LDLIBS)

$(B)/obj/%.o: server/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/asan/obj/%.o: server/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN) -c -o $@ $<

# Translations (docs/languages.md): msgfmt --check refuses a .po whose format strings differ from
# the English ones; the pages get the same messages as JSON written by portald itself.
$(B)/gen/%.mo: po/%.po
	@mkdir -p $(@D)
	msgfmt --check -o $@ $<

$(B)/gen/catalogues.c: $(LANGS:%=$(B)/gen/%.mo) scripts/mo2c.sh
	scripts/mo2c.sh $(LANGS:%=$(B)/gen/%.mo) > $@.tmp && mv $@.tmp $@

$(B)/obj/catalogues.o: $(B)/gen/catalogues.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/asan/obj/catalogues.o: $(B)/gen/catalogues.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN) -c -o $@ $<

static/i18n/%.json: $(B)/portald
	@mkdir -p $(@D)
	$(B)/portald catalogue $* > $@.tmp && mv $@.tmp $@

# After changing a text in server/*.c or static/*: re-extracts po/portal.pot and merges it into
# each po/LANG.po, where new messages then wait, untranslated, for a translator (make test fails
# until they are translated).
po:
	@B=$(B) scripts/po.sh update

# Unit tests include the .c under test to reach its statics; they link the rest of the server.
$(B)/asan/tests/%: tests/unit/%.c $(filter-out $(B)/asan/obj/main.o,$(ASAN_OBJ))
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN) -Itests/unit -o $@ $< \
	  $(filter-out $(B)/asan/obj/main.o $(patsubst tests/unit/test_%.c,$(B)/asan/obj/%.o,$<),$(ASAN_OBJ)) \
	  $(LDLIBS) $(shell pkg-config --libs libcurl 2>/dev/null)

# libFuzzer harnesses (tests/fuzz/fuzz_*.c), built with clang 14: each includes the .c it drives
# and stands in for the rest of the server it would call.
FUZZ_CC    ?= clang-14
FUZZ_FLAGS  = -std=c11 -D_GNU_SOURCE -Iinclude $(PKG_CFLAGS) -g -O1 \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_BIN   := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

$(B)/fuzz/%: tests/fuzz/%.c $(wildcard server/*.c include/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(PKG_LIBS)

deps-build:
	@scripts/deps.sh build

deps-run:
	@scripts/deps.sh run

deps-test:
	@scripts/deps.sh test

# Installs what is missing, builds, starts the private PostgreSQL under var/, migrates, loads the
# demo data and serves on http://127.0.0.1:8080 until Ctrl-C.
run: deps-run
	@$(MAKE) --no-print-directory $(B)/portald $(PAGE_CATALOGUES)
	@B=$(B) scripts/run.sh

# The same set-up, then every test; ends with "N passed, N failed".
test: deps-test
	@$(MAKE) --no-print-directory $(B)/portald $(B)/asan/portald $(PAGE_CATALOGUES) $(UNIT_BIN) \
	  $(FUZZ_BIN)
	@B=$(B) tests/run.sh

# Every fuzzer for FUZZ_SECONDS (default 600) each, from its seed corpus; make test replays the
# corpora and fuzzes each for a few seconds only.
fuzz: deps-test
	@$(MAKE) --no-print-directory $(FUZZ_BIN)
	@B=$(B) FUZZ_SECONDS=$${FUZZ_SECONDS:-600} tests/suites/fuzz.sh

# The proof against tools nobody here wrote (not part of make test: it sends tens of thousands of
# requests): sqlmap at level 5 / risk 3 on every parameter of every endpoint, the forged-token and
# cross-person matrices, and the slow-client test with its p99 ratio asserted. Figures in
# docs/security-review.md.
security: deps-test
	@scripts/deps.sh security
	@$(MAKE) --no-print-directory $(B)/portald $(B)/asan/portald
	@B=$(B) tests/security/run.sh
# The notifications' fault test with the SMTP server down for the full 30 s (make test stops it for
# 5 s): two portald, one killed with SIGKILL, 1,000 release messages.
test-notify-fault: deps-test
	@$(MAKE) --no-print-directory $(B)/asan/portald
	@B=$(B) NOTIFY_FAULT_OUTAGE=30 python3 tests/integration/run.py test_notify_fault

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory $(B)/portald
	@B=$(B) tests/bench/run.sh

stop:
	@scripts/pg.sh stop var/pg

clean:
	rm -rf $(B)

format:
	clang-format -i server/*.c include/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/bench/*.c

format-check:
	@clang-format --version | grep -q 'version 14\.' || { echo "format-check needs clang-format 14 (Debian 12)"; exit 1; }
	clang-format --dry-run -Werror server/*.c include/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/bench/*.c

.PHONY: all po run test test-notify-fault fuzz security bench stop clean format format-check deps-build \
        deps-run deps-test

-include $(OBJ:.o=.d) $(ASAN_OBJ:.o=.d)
