# keydir: GNU Make + pkg-config.  Knobs: SANITIZE=address,undefined,
# DEVELOPER=1 (-Werror), V=1.  Targets: all check unit e2e run lint deps.

PKGS     := libmicrohttpd librnp sqlite3 libcurl jansson libsodium inih libidn2
VERSION  := 0.1.0

ifneq ($(SANITIZE),)
BUILD    ?= build-san
SANFLAGS := -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT      := -O1 -g
else
BUILD    ?= build
OPT      := -O2 -g -D_FORTIFY_SOURCE=2
endif

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wold-style-definition -Wpointer-arith \
	-Wcast-qual -Wwrite-strings -Wformat=2 -Wvla -Wundef \
	-Wimplicit-fallthrough -Wdeclaration-after-statement
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= $(OPT)
CFLAGS  += -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-DKEYDIR_VERSION='"$(VERSION)"' $(WARN) -fstack-protector-strong -fPIE \
	-MMD -MP -Ilib -Isrc/daemon $(PKG_CFLAGS) $(SANFLAGS)
LDFLAGS += -pie -Wl,-z,relro,-z,now $(SANFLAGS)
LDLIBS  += $(PKG_LIBS) -lpthread

LIB_SRC    := $(wildcard lib/*.c)
DAEMON_SRC := $(wildcard src/daemon/*.c)
LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/%.o)

# Unit tests: tests/unit/t_NAME.c links lib/ plus the daemon modules named
# in T_NAME (so a module's tests build on their own).
T_email :=
T_str   :=
T_token := token
T_pgp   := pgp pgp_pkt pgp_strip pgp_verify
T_pgp_verify := pgp pgp_pkt pgp_strip pgp_verify
T_store := store store_sqlite store_sqlite_schema store_sqlite_read store_sqlite_cert store_sqlite_mail store_sqlite_life store_sqlite_xfer store_sqlite_sync store_sqlite_ckpt
T_store_life := store store_sqlite store_sqlite_schema store_sqlite_read store_sqlite_cert store_sqlite_mail store_sqlite_life store_sqlite_xfer store_sqlite_sync store_sqlite_ckpt
T_store_batch := $(T_store_life)
T_mail  := mail_compose mail_dir
T_config := config
T_removal := removal
T_armor :=
UNIT_SRC := $(wildcard tests/unit/t_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check unit e2e run lint deps deps-test clean hdrcheck bench
all: $(BUILD)/keydird

$(BUILD)/keydird: $(DAEMON_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

.SECONDEXPANSION:
$(BUILD)/tests/t_%: tests/unit/t_%.c $(LIB_OBJ) $$(addprefix $(BUILD)/src/daemon/,$$(addsuffix .o,$$(T_$$*)))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

deps:
	@scripts/deps.sh run
deps-test:
	@scripts/deps.sh test

run: deps
	$(MAKE) all
	$(BUILD)/keydird serve $(ARGS)

unit: $(UNIT_BIN)
	prove -f $(UNIT_BIN)

e2e: all
	KEYDIRD=$(abspath $(BUILD)/keydird) prove -f -e bash tests/e2e/[0-9]*.sh

# make check: everything, then again under ASan+UBSan.
check: deps-test
	$(MAKE) -j2 all $(UNIT_BIN)
	$(MAKE) unit e2e
	$(MAKE) -j2 SANITIZE=address,undefined all $(UNIT_BIN:build/%=build-san/%)
	$(MAKE) SANITIZE=address,undefined unit e2e

# make bench: keydird against nginx and librnp (docs/PERFORMANCE.md).
bench: deps
	$(MAKE) all
	BENCH_NO_BUILD=1 bench/run.sh

lint:
	@! grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|strncpy)\(' \
		$(LIB_SRC) $(DAEMON_SRC) || { echo "banned function"; exit 1; }
	@awk 'FNR==1 && NR>1 && n>800 {print f ": " n " lines"; bad=1} {f=FILENAME; n=FNR} \
		END {if (n>800) {print f ": " n " lines"; bad=1}; exit bad}' $(LIB_SRC) $(DAEMON_SRC)

hdrcheck:
	@for h in lib/*.h src/daemon/*.h; do \
		echo "#include \"$$h\"" | $(CC) $(CFLAGS) -Wno-missing-prototypes -x c -c -o /dev/null - || exit 1; \
	done

clean:
	rm -rf build build-san

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
