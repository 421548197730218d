# keydir: GNU Make + pkg-config.  Knobs: SANITIZE=address,undefined,
# DEVELOPER=1 (-Werror), V=1.  Targets: all check unit e2e run lint deps
# fuzz fuzz-replay.

PKGS     := libmicrohttpd librnp sqlite3 libpq libcurl jansson libsodium inih libidn2 nettle
VERSION  := 0.1.0

ifeq ($(FUZZ),1)
# the libFuzzer build of make fuzz: clang, every object instrumented
BUILD    ?= build-fuzz
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer
OPT      := -O1 -g
else ifneq ($(SANITIZE),)
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

# Every folder is one layer and compiles with only the headers it may use:
# its own, lib/'s, and those of the layers under it (-iquote: quoted
# includes only), plus the cflags of the one library it owns.  A stray
# include does not build; scripts/layercheck names it (make layercheck).
D := src/daemon
pc = $(shell pkg-config --cflags $(1) 2>/dev/null)
INC_lib       := lib
INC_pgp       := lib $(D)/pgp
INC_store     := lib $(D)/store
INC_base      := lib $(D)/base
INC_sqlite    := lib $(D)/store $(D)/store/sqlite
INC_pg        := lib $(D)/store $(D)/store/pg
INC_mail      := lib $(D)/store $(D)/mail
INC_directory := lib $(D)/base $(D)/pgp $(D)/store $(D)/mail $(D)/directory
INC_xfer      := lib $(D)/base $(D)/store $(D)/directory $(D)/xfer
INC_http      := lib $(D)/base $(D)/store $(D)/directory $(D)/http
INC_daemon    := lib $(D)/base $(D)/pgp $(D)/store $(D)/mail $(D)/directory \
	$(D)/xfer $(D)/http $(D)
INC_client    := lib src/client
INC_tests     := $(INC_daemon) $(D)/store/sqlite $(D)/store/pg src/client tests/unit tests/store
LIBC_lib      := $(call pc,libsodium libidn2 jansson nettle)
LIBC_pgp      := $(call pc,librnp jansson libsodium)
LIBC_sqlite   := $(call pc,sqlite3)
LIBC_pg       := $(call pc,libpq)
LIBC_mail     := $(call pc,libcurl libsodium)
LIBC_directory := $(call pc,libsodium)
LIBC_xfer     := $(call pc,jansson libsodium)
LIBC_http     := $(call pc,libmicrohttpd jansson libsodium)
LIBC_base     := $(call pc,inih)
LIBC_daemon   := $(call pc,libsodium)
LIBC_client   := $(call pc,gpgme libcurl jansson libsodium)
LIBC_tests    := $(call pc,$(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= $(OPT)
CFLAGS  += -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-DKEYDIR_VERSION='"$(VERSION)"' $(WARN) -fstack-protector-strong -fPIE \
	-MMD -MP $(SANFLAGS)
LDFLAGS += -pie -Wl,-z,relro,-z,now $(SANFLAGS)
LDLIBS  += $(PKG_LIBS) -lunistring -lpthread

# layer of a source file: the folder it sits in
LAYERS := base pgp store sqlite pg mail directory xfer http
layer_of = $(if $(filter lib/%,$(1)),lib,$(if $(filter src/client/%,$(1)),client,$(if $(filter tests/% bench/% fuzz/%,$(1)),tests,$(or \
	$(if $(filter $(D)/store/sqlite/%,$(1)),sqlite),$(if $(filter $(D)/store/pg/%,$(1)),pg),$(firstword $(foreach l,$(LAYERS),\
	$(if $(filter $(D)/$(l)/%,$(1)),$(l)))),daemon))))
layer_flags = $(addprefix -iquote ,$(INC_$(1))) $(LIBC_$(1))

LIB_SRC    := $(wildcard lib/*.c)
DAEMON_SRC := $(wildcard $(D)/*.c $(D)/*/*.c $(D)/*/*/*.c)
LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/%.o)
CLIENT_SRC := $(wildcard src/client/*.c)
CLIENT_OBJ := $(CLIENT_SRC:%.c=$(BUILD)/%.o)
CLIENT_LIBS := $(shell pkg-config --libs gpgme libcurl jansson libsodium libidn2 nettle 2>/dev/null) -lunistring
ALL_SRC    := $(LIB_SRC) $(DAEMON_SRC) $(CLIENT_SRC)
ALL_HDR    := $(wildcard lib/*.h $(D)/*.h $(D)/*/*.h $(D)/*/*/*.h)
# the module object for a bare name (pgp_strip -> build/src/daemon/pgp/pgp_strip.o)
mod = $(foreach n,$(1),$(patsubst %.c,$(BUILD)/%.o,$(filter %/$(n).c,$(DAEMON_SRC) $(CLIENT_SRC))))

# Unit tests: tests/{unit,store}/t_NAME.c links lib/ plus the daemon
# modules named in T_NAME (so a module's tests build on their own).
T_email :=
T_str   :=
T_token := token
T_pgp   := pgp pgp_pkt pgp_strip pgp_verify pgp_wkd pgp_wks
T_pgp_verify := pgp pgp_pkt pgp_strip pgp_verify pgp_wkd pgp_wks
T_serverkey := pgp pgp_pkt pgp_strip pgp_verify pgp_wkd pgp_wks pgp_serverkey
T_submission :=
T_recovery := recovery
T_store := store store_sqlite store_sqlite_schema store_sqlite_read store_sqlite_cert store_sqlite_mail store_sqlite_life store_sqlite_xfer store_sqlite_sync store_sqlite_ckpt store_sqlite_admin store_sqlite_limits store_pg store_pg_schema store_pg_read store_pg_cert store_pg_mail store_pg_life store_pg_cache store_pg_listen
T_store_life := $(T_store)
T_store_batch := $(T_store)
T_store_admin := $(T_store)
T_store_conf := $(T_store)
T_store_conf_pg := $(T_store)
T_pg_cache := $(T_store)
T_directory := directory directory_atomic directory_limits directory_import directory_submit directory_recovery directory_serverkey pgp_serverkey directory_mail directory_maintain directory_manage directory_publish directory_rebuild directory_remove directory_session directory_verify directory_wks seal token pgp pgp_pkt pgp_strip pgp_verify pgp_wkd pgp_wks mail_compose mail_dir mail_smtp mailer config lang $(T_store)
T_directory_life := $(T_directory)
T_fault := $(T_directory)
T_http := limit http_who http_pool routes h_keys h_upload h_verify h_manage views site assets h_site h_search h_web h_wkd http $(T_directory)
T_site := $(T_http)
T_wkd := $(T_http)
T_directory_abuse := $(T_http)
T_mail_rate := $(T_directory)
T_mail  := mail_compose mail_dir
T_config := config
T_limit := limit http_who http_pool http routes h_keys h_upload h_verify h_manage views site assets h_site h_search h_web h_wkd $(T_directory)
T_priv := priv
T_sandbox := sandbox sandbox_seccomp
T_removal :=
T_tmpl :=
T_i18n :=
T_mime :=
T_multipart :=
T_armor :=
T_atomic := directory_atomic $(T_store)
UNIT_SRC := $(wildcard tests/unit/t_*.c tests/store/t_*.c)
UNIT_BIN := $(patsubst %.c,$(BUILD)/tests/%,$(notdir $(UNIT_SRC)))

# Fuzz targets: fuzz/fuzz_NAME.c links lib/, fuzz/fuzz_util.c and the
# modules in F_NAME (those of F_daemon also fuzz/fuzz_daemon.c: a keydird
# without a socket), and either libFuzzer (make fuzz: clang) or
# fuzz/replay.c (make fuzz-replay: any compiler; make check runs it).
F_email :=
F_lang :=
F_multipart :=
F_mime :=
F_armor :=
F_removal :=
F_submission :=
F_config := config
F_recovery := recovery
F_key := $(T_pgp)
F_signed := $(T_pgp)
F_decrypt := $(T_pgp)
F_daemon := $(T_http)
F_http := $(F_daemon)
F_vks := $(F_daemon)
F_hkp := $(F_daemon)
F_form := $(F_daemon)
FUZZ_DAEMON := http vks hkp form
FUZZ_TARGETS := email lang multipart mime armor removal submission config recovery key signed \
	decrypt $(FUZZ_DAEMON)
FUZZ_BIN := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_SECONDS ?= 60
FUZZ_RUN ?= $(FUZZ_TARGETS)
ifeq ($(FUZZ),1)
FUZZ_MAIN := -fsanitize=fuzzer
else
FUZZ_MAIN := fuzz/replay.c
endif

.PHONY: all check unit e2e e2e-pg run lint deps deps-test clean hdrcheck bench layercheck layers \
	fuzz fuzz-replay deps-fuzz
all: $(BUILD)/keydird $(BUILD)/keydir

$(BUILD)/keydird: $(DAEMON_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# the client: lib/ and its own files, GPGME and libcurl
$(BUILD)/keydir: $(CLIENT_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(CLIENT_LIBS) -lpthread

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call layer_flags,$(call layer_of,$<)) -c -o $@ $<

# The web site's files are built into keydird (src/daemon/http/assets.c,
# .incbin), and so are the catalogs msgfmt compiles from po/
# (src/daemon/base/lang.c; --check: a broken format string fails the
# build): the objects depend on them.
PO      := $(wildcard po/*.po)
MO      := $(PO:po/%.po=$(BUILD)/po/%.mo)
WEB     := $(wildcard web/templates/* web/static/*)
$(BUILD)/po/%.mo: po/%.po
	@mkdir -p $(dir $@)
	msgfmt --check -o $@ $<
$(BUILD)/src/daemon/http/assets.o: $(WEB)
$(BUILD)/src/daemon/base/lang.o: $(MO)
$(BUILD)/src/daemon/base/lang.o: CFLAGS += -DLANG_MO_DIR='"$(BUILD)/po"'

.SECONDEXPANSION:
$(BUILD)/tests/t_%: $$(wildcard tests/unit/t_$$*.c tests/store/t_$$*.c) $(LIB_OBJ) $$(call mod,$$(T_$$*))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call layer_flags,tests) $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

# the PostgreSQL suite starts its cluster with tests/pg/cluster.sh
$(BUILD)/tests/t_store_conf_pg: CFLAGS += -DSRCDIR='"$(CURDIR)"'

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_util.c fuzz/fuzz.h \
    $$(if $$(filter $$*,$$(FUZZ_DAEMON)),fuzz/fuzz_daemon.c fuzz/fuzz_daemon.h) \
    $(filter %.c,$(FUZZ_MAIN)) $(LIB_OBJ) $$(call mod,$$(F_$$*))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call layer_flags,tests) -iquote fuzz \
		-DFUZZ_DIR='"$(CURDIR)/fuzz"' $(LDFLAGS) -o $@ \
		$(filter %.c %.o,$^) $(filter-out %.c,$(FUZZ_MAIN)) $(LDLIBS)

deps:
	@scripts/deps.sh run
deps-test:
	@scripts/deps.sh test
deps-fuzz:
	@scripts/deps.sh fuzz

# As root, make run switches to nobody unless ARGS names --user: keydird
# refuses root without it.
RUN_USER = $(if $(and $(filter 0,$(shell id -u)),$(if $(findstring --user,$(ARGS)),,x)),--user nobody)

run: deps
	$(MAKE) all
	$(BUILD)/keydird serve $(RUN_USER) $(ARGS)

unit: $(UNIT_BIN)
	prove -f $(UNIT_BIN)

e2e: all
	KEYDIRD=$(abspath $(BUILD)/keydird) prove -f -e bash tests/e2e/[0-9]*.sh

# the same end-to-end tests with every keydird on PostgreSQL (a throwaway
# cluster per script; tests/e2e/lib.sh, KD_STORE=pg)
e2e-pg: all
	KD_STORE=pg KEYDIRD=$(abspath $(BUILD)/keydird) prove -f -e bash \
		tests/e2e/[0-9]*.sh

# make check: everything (the end-to-end tests on SQLite and on
# PostgreSQL), then again under ASan+UBSan (on SQLite).
check: deps-test
	$(MAKE) layercheck
	scripts/po-check
	$(MAKE) -j2 all $(UNIT_BIN) $(FUZZ_BIN)
	$(MAKE) unit e2e e2e-pg fuzz-replay
	$(MAKE) -j2 SANITIZE=address,undefined all $(UNIT_BIN:build/%=build-san/%) \
		$(FUZZ_BIN:build/%=build-san/%)
	$(MAKE) SANITIZE=address,undefined unit e2e fuzz-replay

# make fuzz-replay: every committed corpus and crash input through the
# targets built with $(CC) (no libFuzzer); librnp's complaints about
# malformed packets go to a log, shown when a target fails.
fuzz-replay: $(FUZZ_BIN)
	@for t in $(FUZZ_TARGETS); do \
		$(BUILD)/fuzz/fuzz_$$t fuzz/corpus/$$t fuzz/regress/$$t \
		    2>$(BUILD)/fuzz/replay-$$t.log || { \
			tail -n 60 $(BUILD)/fuzz/replay-$$t.log; \
			echo "fuzz-replay: $$t failed (log: $(BUILD)/fuzz/replay-$$t.log)"; \
			exit 1; }; \
	done

# make fuzz FUZZ_SECONDS=N [FUZZ_RUN='key email']: each target under
# libFuzzer (clang, ASan+UBSan) for N seconds, one at a time, on its
# corpus; the corpus is then minimised with what it found (-merge=1).  A
# crash is left in build-fuzz/fuzz/crash-TARGET/: fix it, then commit the
# input under fuzz/regress/TARGET/.  The target's stderr (librnp's
# complaints) is closed; libFuzzer's and the sanitizers' reports stay.
fuzz: deps-fuzz
	$(MAKE) -j2 FUZZ=1 CC=clang $(FUZZ_RUN:%=build-fuzz/fuzz/fuzz_%)
	@for t in $(FUZZ_RUN); do \
		w=build-fuzz/fuzz/work-$$t; rm -rf $$w $$w.min; \
		mkdir -p $$w $$w.min fuzz/corpus/$$t build-fuzz/fuzz/crash-$$t; \
		echo "== fuzz_$$t: $(FUZZ_SECONDS) s"; \
		build-fuzz/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
		    -timeout=25 -close_fd_mask=2 -print_final_stats=1 \
		    -artifact_prefix=build-fuzz/fuzz/crash-$$t/ \
		    $$w fuzz/corpus/$$t $$(ls -d fuzz/regress/$$t 2>/dev/null) \
		    2>&1 | tee build-fuzz/fuzz/fuzz-$$t.log | \
		    grep -E '^#[0-9]+\s+(INITED|DONE)|^stat::|ERROR|SUMMARY|Test unit written' || true; \
		build-fuzz/fuzz/fuzz_$$t -merge=1 -close_fd_mask=2 -timeout=25 \
		    $$w.min fuzz/corpus/$$t $$w >build-fuzz/fuzz/merge-$$t.log 2>&1 && \
		    rm -rf fuzz/corpus/$$t && mv $$w.min fuzz/corpus/$$t; \
		rm -rf $$w $$w.min; \
		echo "   corpus: $$(ls fuzz/corpus/$$t | wc -l) files, $$(cat fuzz/corpus/$$t/* | wc -c) bytes"; \
		if ls build-fuzz/fuzz/crash-$$t/* >/dev/null 2>&1; then \
			echo "fuzz_$$t: crash inputs in build-fuzz/fuzz/crash-$$t/"; exit 1; fi; \
	done

# make bench: keydird against nginx and librnp (docs/PERFORMANCE.md).
bench: deps
	$(MAKE) all
	BENCH_NO_BUILD=1 STORE=$(STORE) bench/run.sh

lint:
	@! grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|strncpy)\(' \
		$(ALL_SRC) || { echo "banned function"; exit 1; }
	@awk 'FNR==1 && NR>1 && n>800 {print f ": " n " lines"; bad=1} {f=FILENAME; n=FNR} \
		END {if (n>800) {print f ": " n " lines"; bad=1}; exit bad}' $(ALL_SRC)

# the layer table for scripts/layercheck: NAME FOLDER INCLUDE-FOLDERS...
layers:
	@$(foreach l,lib $(LAYERS) daemon,echo "$(l) $(or $(filter lib,$(l)),$(if $(filter sqlite,$(l)),$(D)/store/sqlite),$(if $(filter pg,$(l)),$(D)/store/pg),$(if $(filter daemon,$(l)),$(D)),$(D)/$(l)) $(INC_$(l))";)
	@echo "client src/client $(INC_client)"

# each header compiles on its own, with its layer's flags
hdrcheck:
	@$(foreach h,$(ALL_HDR),printf '#include "%s"\ntypedef int hdrcheck_t;\n' \
		"$(abspath $(h))" | $(CC) $(filter-out -MMD -MP,$(CFLAGS)) \
		$(call layer_flags,$(call layer_of,$(h))) -Wno-missing-prototypes \
		-x c -fsyntax-only - || exit 1;)

# no file includes a header of a layer above its own or of a library
# that is not its own (scripts/layercheck), and each header stands alone
layercheck: hdrcheck
	@$(MAKE) -s layers | scripts/layercheck

clean:
	rm -rf build build-san build-fuzz

# dependency files are made by the compiler, never by a rule; the test
# one needs a pattern with a shorter stem than the test binaries' own
# (GNU make picks the shortest), or build/tests/t_x.d would be linked
$(BUILD)/tests/t_%.d: ;
$(BUILD)/fuzz/fuzz_%.d: ;
%.d: ;
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
