# Units for systemd and xinetd, generated from one template each so the
# seven listeners cannot drift apart, and `make install`.
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
# Where the generated units go (tests point it at a private directory).
UNITS_OUT ?= $(BUILD)/units

# listener: program|extra arguments (- for none)|title|port|max connections|per source|/etc/services name
LISTENERS := smtp submission smtps pop3 pop3s imap imaps
L_smtp := postern-smtpd|-|SMTP|25|200|20|smtp
L_submission := postern-smtpd| --submission|submission|587|100|20|submission
L_smtps := postern-smtpd| --tls --submission|submission over TLS|465|100|20|submissions
L_pop3 := postern-pop3d|-|POP3|110|200|20|pop3
L_pop3s := postern-pop3d| --tls|POP3 over TLS|995|200|20|pop3s
L_imap := postern-imapd|-|IMAP|143|500|50|imap2
L_imaps := postern-imapd| --tls|IMAP over TLS|993|500|50|imaps
field = $(patsubst -,,$(word $(2),$(subst |, ,$(subst $(space),+,$(L_$(1))))))
space := $(subst ,, )
unitsubst = sed -e 's|@NAME@|$(1)|g' \
	-e 's|@PROGRAM@|$(call field,$(1),1)|g' \
	-e 's|@ARGS@|$(subst +, ,$(call field,$(1),2))|g' \
	-e 's|@TITLE@|$(subst +, ,$(call field,$(1),3))|g' \
	-e 's|@PORT@|$(call field,$(1),4)|g' \
	-e 's|@MAX@|$(call field,$(1),5)|g' \
	-e 's|@PER@|$(call field,$(1),6)|g' \
	-e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

UNIT_SERVICES := $(LISTENERS:%=$(UNITS_OUT)/postern-%@.service) $(UNITS_OUT)/postern-relay.service
UNIT_STATIC := $(LISTENERS:%=units/postern-%.socket) units/postern-relay.path \
	units/postern-relay.timer units/postern.target
XINETD_FILES := $(LISTENERS:%=$(UNITS_OUT)/xinetd/postern-%)
UNIT_FILES := $(UNIT_SERVICES) $(XINETD_FILES) $(UNITS_OUT)/inetd.conf $(UNITS_OUT)/postern.conf

# The generated files hold the install paths: a stamp that changes only when
# they do makes `make install PREFIX=/usr` after a plain `make` regenerate them.
UNIT_PATHS := $(SBINDIR) $(SYSCONFDIR)
$(UNITS_OUT)/paths: FORCE
	@mkdir -p $(dir $@)
	@[ "$$(cat $@ 2>/dev/null)" = '$(UNIT_PATHS)' ] || echo '$(UNIT_PATHS)' >$@
FORCE:

$(UNITS_OUT)/postern-%@.service: units/postern-session.service.in units/units.mk $(UNITS_OUT)/paths
	@mkdir -p $(dir $@)
	@$(call unitsubst,$*) $< >$@
$(UNITS_OUT)/postern-relay.service: units/postern-relay.service.in units/units.mk $(UNITS_OUT)/paths
	@mkdir -p $(dir $@)
	@$(call unitsubst,relay) $< >$@
$(UNITS_OUT)/xinetd/postern-%: units/xinetd/postern.xinetd.in units/units.mk $(UNITS_OUT)/paths
	@mkdir -p $(dir $@)
	@$(call unitsubst,$*) $< >$@
$(UNITS_OUT)/postern.conf: units/postern.conf.in units/units.mk $(UNITS_OUT)/paths
	@mkdir -p $(dir $@)
	@$(call unitsubst,-) $< >$@
$(UNITS_OUT)/inetd.conf: units/units.mk $(UNITS_OUT)/paths
	@mkdir -p $(dir $@)
	@echo '# Postern for inetd: append to /etc/inetd.conf.' >$@
	@$(foreach l,$(LISTENERS),printf '%s\tstream\ttcp\tnowait\tpostern\t%s\t%s -c %s/postern/postern.conf%s\n' \
		'$(call field,$(l),7)' '$(SBINDIR)/$(call field,$(l),1)' '$(call field,$(l),1)' \
		'$(SYSCONFDIR)' '$(subst +, ,$(call field,$(l),2))' >>$@;)

units: $(UNIT_FILES)

MAN_PAGES := $(sort $(wildcard man/*.[158] mail/*.1))

# Everything lands under $(DESTDIR); nothing is started, no user is made.
# After installing: systemd-sysusers, systemd-tmpfiles --create (the postern
# user, /var/mail/postern, /var/spool/postern), then enable postern.target.
install: all units
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(DATADIR)/postern/xinetd $(DESTDIR)$(DATADIR)/postern/examples \
		$(DESTDIR)$(SYSCONFDIR)/postern
	for p in $(filter-out postern-mail,$(PROGRAMS)); do \
		install -m 755 $(BUILD)/$$p $(DESTDIR)$(SBINDIR)/$$p || exit 1; done
	if [ -x $(BUILD)/postern-mail ]; then install -m 755 $(BUILD)/postern-mail $(DESTDIR)$(BINDIR)/; fi
	install -m 644 $(UNIT_SERVICES) $(UNIT_STATIC) $(DESTDIR)$(UNITDIR)/
	install -m 644 units/postern.sysusers $(DESTDIR)$(SYSUSERSDIR)/postern.conf
	install -m 644 units/postern.tmpfiles $(DESTDIR)$(TMPFILESDIR)/postern.conf
	install -m 644 $(XINETD_FILES) $(UNITS_OUT)/inetd.conf $(DESTDIR)$(DATADIR)/postern/xinetd/
	install -m 644 examples/postern.conf examples/users examples/aliases $(DESTDIR)$(DATADIR)/postern/examples/
	[ -e $(DESTDIR)$(SYSCONFDIR)/postern/postern.conf ] || \
		install -m 644 $(UNITS_OUT)/postern.conf $(DESTDIR)$(SYSCONFDIR)/postern/postern.conf
	for m in $(MAN_PAGES); do s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s && \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; done

# Removes what install put there, except the config in SYSCONFDIR (yours).
uninstall:
	rm -f $(PROGRAMS:%=$(DESTDIR)$(SBINDIR)/%) $(DESTDIR)$(BINDIR)/postern-mail
	rm -f $(UNIT_SERVICES:$(UNITS_OUT)/%=$(DESTDIR)$(UNITDIR)/%) \
		$(UNIT_STATIC:units/%=$(DESTDIR)$(UNITDIR)/%)
	rm -f $(DESTDIR)$(SYSUSERSDIR)/postern.conf $(DESTDIR)$(TMPFILESDIR)/postern.conf
	rm -rf $(DESTDIR)$(DATADIR)/postern
	for m in $(MAN_PAGES); do s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; done

.PHONY: units install uninstall FORCE
