# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""vm_sid.py: the sid flavour of tests/vm/vm_test.py. A Debian sid guest with systemd 262: the
per-user systemd-machined for real (user@0 and its machined socket, as systemd ships them),
machine/NAME resolved in the user scope first, and every machine/ registration reached through
real ssh with ssh-proxy and with systemd's own systemd-ssh-proxy side by side. All in one boot.
See tests/vm/README.md ("sid guest") for what it needed and the table, which must be this run's."""

import pathlib
import tempfile

import check  # pylint: disable=import-error
import guest as guest_mod  # pylint: disable=import-error
# pylint: disable=import-error
from vm_scenario import (PROXY, Flavour, Row, nspawn, pid1, starts,
                         teardown, MUX_EMULATOR_START)

SCENARIOS = (
    "boot_sid_guest", "sid_pid1_systemd_258_or_later", "sid_user_machined_runs",
    "sid_register_in_both_scopes", "machine_user_scope", "sid_user_scope_unix_address",
    "sid_both_scopes_user_wins", "sid_system_only_falls_through", "sid_user_scope_nspawn_path",
    "sid_nspawn_user_container", "sid_side_by_side_systemd_reaches_nothing_we_do_not",
    "sid_side_by_side_table_in_readme", "sid_stopped_machined_is_not_running",
    "sid_teardown_leaves_nothing")
USER = "/run/user/0/systemd/machine/io.systemd.Machine"
SYSTEM = "/run/systemd/machine/io.systemd.Machine"
README = guest_mod.HERE / "README.md"
BEGIN, END = "<!-- sid-side-by-side:begin -->", "<!-- sid-side-by-side:end -->"

# The side-by-side rows: label, host, port, what is registered, why the two differ (empty: they
# do not). Every registration the machine/ scenarios make, in both scopes.
ROWS = (
    ("vmcid", "machine/vmcid", "22", "system: `vSockCid` 42 (the guest's own)", ""),
    ("vmunix", "machine/vmunix", "22",
     "system: `sshAddress` `unix/run/ssh-unix-local/socket`",
     "systemd-ssh-proxy uses only `vSockCid` and refuses a machine without one; ssh-proxy "
     "connects to its `sshAddress`"),
    ("vmvsock", "machine%vmvsock", "22",
     "system: `sshAddress` `vsock/1` (host written with `%`)", "as vmunix"),
    ("vmmux", "machine/vmmux", "2222",
     "system: `sshAddress` `vsock-mux/run/vmmux.vsock` (tests/e2e's multiplexer emulator)",
     "as vmunix"),
    ("vmnone", "machine/vmnone", "22", "system: neither",
     "both refuse; ssh-proxy says what the record lacks"),
    ("vmbad", "machine/vmbad", "22", "system: `sshAddress` `machine/vmcid` (recursive)",
     "both refuse (systemd for want of a CID); ssh-proxy names the refused address, exit 76"),
    ("c1", "machine/c1", "22", "system: `systemd-nspawn --machine=c1` container", ""),
    ("dothost", ".host", "22", "none (`.host`: `/run/ssh-unix-local/socket`)", ""),
    ("machinedothost", "machine/.host", "22", "machined's own `.host` record", ""),
    ("nosuch", "machine/nosuch", "22", "nothing",
     "both refuse; systemd-ssh-proxy 262 prints nothing"),
    ("uonly", "machine/uonly", "22", "user: `vSockCid` 42", ""),
    ("uunix", "machine/uunix", "22", "user: `sshAddress` `unix/run/ssh-unix-local/socket`",
     "as vmunix"),
    ("both", "machine/both", "22", "user: `vSockCid` 42; system: `sshAddress` of another sshd",
     ""),
    ("uc1", "machine/uc1", "22", "user: class container, service systemd-nspawn; an sshd on "
     "`/run/user/0/systemd/nspawn/uc1/unix-export/ssh`", ""),
)
PROXIES = ("ours", "systemd")

# Registrations: each with its own leader (machined keys machines by the leader's unit); user
# scope leaders are units of the user manager. Two extra sshds, each telling which it is
# (SetEnv SSH_PROXY_VM_TARGET): for the system scope's "both" and the user-scope nspawn path.
SETUP = rf"""set -e
reg() {{
  if [ $1 = user ]; then
    systemd-run --user --quiet --unit=lead-u-$2 sleep infinity
    pid=$(systemctl --user show -P MainPID lead-u-$2); sock={USER}
  else
    systemd-run --quiet --unit=lead-s-$2 sleep infinity
    pid=$(systemctl show -P MainPID lead-s-$2); sock={SYSTEM}
  fi
  varlinkctl call $sock io.systemd.Machine.Register \
    "{{\"name\":\"$2\",\"leader\":$pid$3}}" >/dev/null
}}
marked_sshd() {{
  mkdir -p $(dirname $2)
  systemd-run $3 --quiet --unit=sshd-$1 systemd-socket-activate --inetd -a -l $2 \
    /usr/sbin/sshd -i -o SetEnv=SSH_PROXY_VM_TARGET=$1
  for i in $(seq 100); do [ -S $2 ] && break; sleep 0.1; done
}}
marked_sshd both-system /run/both-system.sock
marked_sshd uc1 /run/user/0/systemd/nspawn/uc1/unix-export/ssh --user
reg system vmcid ',"class":"vm","vSockCid":CID'
reg system vmunix ',"class":"vm","sshAddress":"unix/run/ssh-unix-local/socket"'
reg system vmvsock ',"class":"vm","sshAddress":"vsock/1"'
reg system vmnone ',"class":"vm"'
reg system vmbad ',"class":"vm","sshAddress":"machine/vmcid"'
reg system both ',"class":"vm","sshAddress":"unix/run/both-system.sock"'
reg user uonly ',"class":"vm","vSockCid":CID'
reg user uunix ',"class":"vm","sshAddress":"unix/run/ssh-unix-local/socket"'
reg user both ',"class":"vm","vSockCid":CID'
reg user uc1 ',"class":"container","service":"systemd-nspawn"'
""" + nspawn("c1") + """for i in $(seq 150); do
  [ -S /run/systemd/nspawn/c1/unix-export/ssh ] && break; sleep 0.1
done
"""
SETUP_MUX = MUX_EMULATOR_START + """reg system vmmux \
  ',"class":"vm","sshAddress":"vsock-mux/run/vmmux.vsock"'
"""
LISTED = rf"""for n in vmcid vmunix vmvsock vmnone vmbad both c1; do
  varlinkctl call {SYSTEM} io.systemd.Machine.List "{{\"name\":\"$n\"}}" >/dev/null &&
    echo "system $n"
done
for n in uonly uunix both uc1; do
  varlinkctl call {USER} io.systemd.Machine.List "{{\"name\":\"$n\"}}" >/dev/null &&
    echo "user $n"
done"""
WANT_LISTED = ("system vmcid\nsystem vmunix\nsystem vmvsock\nsystem vmnone\nsystem vmbad\n"
               "system both\nsystem c1\nuser uonly\nuser uunix\nuser both\nuser uc1")

# systemd-nspawn --user for real: it needs systemd-nsresourced for its user namespace. When that
# cannot allocate one (this kernel's BPF), nspawn's own words say why.
USER_CONTAINER = ("systemctl start systemd-nsresourced.socket systemd-mountfsd.socket 2>&1\n"
                  + nspawn("u1", user=True) + rf"""for i in $(seq 100); do
  [ -S /run/user/0/systemd/nspawn/u1/unix-export/ssh ] && break
  systemctl --user -q is-failed ct-u1 && break
  sleep 0.1
done
if [ -S /run/user/0/systemd/nspawn/u1/unix-export/ssh ]; then
  {PROXY} --dry-run machine/u1 22; ssh machine/u1 hostname
else
  echo 'nspawn-failed:' $(journalctl --user -u ct-u1 -o cat --no-pager |
    grep -v -e '^ct-u1' -e '^Started' -e '^Note:' | tail -n 1)
  journalctl -u systemd-nsresourced -o cat --no-pager |
    grep -i -e 'disabled' -e 'failed to load' | tail -n 2
fi""")

# Every ROWS host through real ssh in the guest, once with ssh-proxy's installed fragment and once
# with systemd's (/usr/lib/systemd/ssh_config.d), each ProxyCommand wrapped to record the proxy's
# own exit status. One line per row and proxy:
# "label<TAB>proxy<TAB>ssh_rc<TAB>proxy_rc<TAB>stdout<TAB>the proxy's message".
SIDE_BY_SIDE = r"""set -e
printf "#!/bin/sh\n\"\$@\"\nrc=\$?\necho \$rc >\"\$CMP_RC\"\nexit \$rc\n" >/usr/local/bin/rcwrap
chmod 755 /usr/local/bin/rcwrap
for p in ours systemd; do
  case $p in
    ours) f=/etc/ssh/ssh_config.d/20-ssh-proxy.conf ;;
    systemd) f=/usr/lib/systemd/ssh_config.d/20-systemd-ssh-proxy.conf ;;
  esac
  { sed "s|^\([[:space:]]*ProxyCommand\) |\1 /usr/local/bin/rcwrap |" "$f"
    cat /etc/ssh/ssh_config.d/90-ssh-proxy-vm.conf; } >/etc/ssh/cmp-$p.conf
done
set +e
# one LABEL PROXY HOST PORT: one ssh, its line in /run/cmp/LABEL.PROXY.
one() {
  d=/run/cmp/$1.$2
  out=$(CMP_RC=$d.rc timeout 60 ssh -F /etc/ssh/cmp-$2.conf -p "$4" "$3" \
    'echo $(hostname)${SSH_PROXY_VM_TARGET:+/$SSH_PROXY_VM_TARGET}' 2>$d.err </dev/null)
  src=$?
  prc=$(cat $d.rc 2>/dev/null || echo -)
  msg=$(grep -v -e mm_receive_fd -e "proxy dialer" -e "^Connection closed" -e "^kex_exchange" \
    -e "^Warning: Permanently" $d.err | head -n1)
  printf "%s\t%s\t%s\t%s\t%s\t%s\n" "$1" "$2" "$src" "$prc" "$out" "$msg" >$d
}
# cmp LABEL HOST PORT: both proxies at once (the guest has 2 vCPUs), then their lines in order.
cmp() {
  one "$1" ours "$2" "$3" &
  one "$1" systemd "$2" "$3"
  wait
  cat /run/cmp/$1.ours /run/cmp/$1.systemd
}
rm -rf /run/cmp && mkdir /run/cmp
"""


def register(t):
    mux_ok = t.copy_mux_emulator()
    script = SETUP.replace("CID", str(t.guest.cid)) + (SETUP_MUX if mux_ok else "") + LISTED
    Row("sid_register_in_both_scopes", script, WANT_LISTED, script=True,
        context="" if mux_ok else "mux emulator not copied; ")(t)


def user_container(t):
    name = "sid_nspawn_user_container"
    r = t.gscript(USER_CONTAINER)
    if r.out == "unix path=/run/user/0/systemd/nspawn/u1/unix-export/ssh\nu1":
        t.ok(name)
    elif r.out.startswith("nspawn-failed:"):
        words = (r.out.removeprefix("nspawn-failed: ") + "\n").replace("\n", " ")
        t.skip(name, "systemd-nspawn --user cannot run in this guest (bookworm's 6.1 kernel): "
               + words)
    else:
        t.fail(name, r.detail())


def table(fields):
    """The side-by-side table, Markdown lines, from the run's fields[(label, proxy)]."""
    lines = ["| ssh to | registered | ssh-proxy | systemd-ssh-proxy 262 | why they differ |",
             "|---|---|---|---|---|"]
    for label, host, port, what, why in ROWS:
        cells = []
        for proxy in PROXIES:
            f = fields.get((label, proxy), []) + [""] * 6
            reach = f"reaches `{f[4]}`" if f[2] == "0" else "does not reach it"
            msg = f[5].replace("|", "\\|")
            if len(msg) > 170:
                msg = msg[:170] + "…"
            cells.append(f"{reach}, exit {f[3]}" + (f": `{msg}`" if msg else ""))
        shown = host if port == "22" else f"{host} -p {port}"
        lines.append(f"| `{shown}` | {what} | {cells[0]} | {cells[1]} | {why} |")
    return lines


def side_by_side(t):
    script = SIDE_BY_SIDE + "".join(f"cmp {label} '{host}' {port}\n"
                                    for label, host, port, _, _ in ROWS)
    # 28 ssh logins under TCG: well past the default bound of 120 s on a loaded host.
    r = t.gscript(script.rstrip("\n"), timeout=900)
    fields = {}
    for line in r.out.split("\n"):
        f = line.split("\t")
        fields.setdefault((f[0], f[1] if len(f) > 1 else ""), f)

    def field(label, proxy, n):
        f = fields.get((label, proxy), [])
        return f[n - 1] if len(f) >= n else ""

    lost = "".join(f"{label} " for label, *_ in ROWS
                   if field(label, "systemd", 3) == "0"
                   and (field(label, "ours", 3) != "0"
                        or field(label, "ours", 5) != field(label, "systemd", 5)))
    lines = table(fields)
    print("\n".join(f"  {line}" for line in lines))
    t.expect("sid_side_by_side_systemd_reaches_nothing_we_do_not",
             r.rc == 0 and len(r.out.split("\n")) == 2 * len(ROWS) and not lost,
             lambda: f"systemd-ssh-proxy reaches, ssh-proxy does not: [{lost.removesuffix(' ')}]; "
                     f"{r.detail()}")
    readme_table(t, "\n".join(lines))


def readme_table(t, run_table):
    """tests/vm/README.md's table (between BEGIN and END) must be this run's."""
    name = "sid_side_by_side_table_in_readme"
    lines = README.read_text().split("\n")
    start = lines.index(BEGIN) + 1 if BEGIN in lines else len(lines)
    end = lines.index(END, start) if END in lines[start:] else len(lines)
    current = "\n".join(lines[start:end]).rstrip("\n")
    if current == run_table:
        t.ok(name)
        return
    fd, saved = tempfile.mkstemp(prefix="ssh-proxy-vm-sid-table.", suffix=".md", dir="/tmp")
    with open(fd, "w", encoding="utf-8") as f:
        f.write(run_table + "\n")
    diff = check.run(["diff", "-", saved], stdin=(current + "\n").encode(), timeout=30)
    head = "".join(f"{line} " for line in diff.out.splitlines()[:6])
    t.fail(name, f"tests/vm/README.md's table differs from this run's (saved in {saved}): {head}")


def steps(t):
    cid, proxy = t.guest.cid, PROXY
    return [
        pid1("sid_pid1_systemd_258_or_later", lambda v: v >= 258, "want systemd >= 258 as PID 1"),
        # The per-user machined as systemd ships it: a user unit (systemd-machined.socket) of
        # root's user manager, which sshd's PAM session (libpam-systemd) starts. Linger keeps
        # user@0 (and the machines registered with its machined) between our ssh sessions.
        Row("sid_user_machined_runs", f"""loginctl enable-linger root
for i in $(seq 100); do [ -S {USER} ] && break; sleep 0.1; done
systemctl is-active user@0.service; systemctl --user is-active systemd-machined.socket
systemctl --user show -P ExecStart systemd-machined.service |
  grep -o 'systemd-machined --user' | head -n1
test -S {USER} && echo socket""", "active\nactive\nsystemd-machined --user\nsocket"),
        register,
        # A name only in the user scope resolves there, through real ssh and the fragment.
        Row("machine_user_scope", f"{proxy} -v --dry-run machine/uonly 22 2>&1 >/dev/null | "
            f"grep -c 'is vsock cid={cid} port=22 (from systemd-machined (user scope))'; "
            "ssh machine/uonly hostname", "1\nssh-proxy-sid", context=f"user-scope vSockCid {cid}"),
        Row("sid_user_scope_unix_address",
            f"{proxy} --dry-run machine/uunix 22; ssh machine/uunix hostname",
            "unix path=/run/ssh-unix-local/socket\nssh-proxy-sid"),
        # In both scopes: the user scope's (the guest's own CID), not the system scope's (an sshd
        # that says "both-system").
        Row("sid_both_scopes_user_wins", f"{proxy} -v --dry-run machine/both 22 2>&1 >/dev/null | "
            "grep -c '(from systemd-machined (user scope))'; ssh machine/both "
            "'echo $(hostname)${SSH_PROXY_VM_TARGET:+/$SSH_PROXY_VM_TARGET}'; "
            f"ssh -o 'ProxyCommand={proxy} unix/run/both-system.sock %p' x "
            "'echo $SSH_PROXY_VM_TARGET'", "1\nssh-proxy-sid\nboth-system",
            context="the last line shows the system scope's sshd is there"),
        # Only in the system scope: the user scope answers NoSuchMachine, the system scope
        # resolves it.
        Row("sid_system_only_falls_through",
            f"{proxy} -v --dry-run machine/vmcid 22 2>&1 >/dev/null | grep -e 'user scope) has "
            "no machine vmcid' -e 'from systemd-machined (system scope)' | "
            "sed 's/^ssh-proxy: debug: //'; ssh machine/vmcid hostname",
            "systemd-machined (user scope) has no machine vmcid\nmachine/vmcid is vsock "
            f"cid={cid} port=22 (from systemd-machined (system scope))\nssh-proxy-sid"),
        # A user-scope nspawn record resolves to the user's runtime directory, where systemd 262
        # lays out a container's export (runtime/systemd/nspawn/NAME/unix-export/ssh, as its
        # ssh-proxy.c); the system scope's c1 (a real nspawn container) has it there too. -v says
        # which layout.
        Row("sid_user_scope_nspawn_path", f"{proxy} --dry-run machine/uc1 22; ssh machine/uc1 "
            "'echo $(hostname)/$SSH_PROXY_VM_TARGET'\n"
            f"{proxy} -v --dry-run machine/c1 22 2>&1 | "
            "grep -c 'export socket /run/systemd/nspawn/c1/unix-export/ssh exists'",
            "unix path=/run/user/0/systemd/nspawn/uc1/unix-export/ssh\nssh-proxy-sid/uc1\n1"),
        user_container,
        side_by_side,
        # machined >= 256 stopped in both scopes: its socket units leave the socket files, so this
        # is "not running" (ECONNREFUSED), never "older than 256", though /run/systemd/machines
        # exists.
        Row("sid_stopped_machined_is_not_running", """\
systemctl --user stop systemd-machined.socket systemd-machined.service 2>/dev/null
systemctl stop systemd-machined.socket systemd-machined.service 2>/dev/null
test -d /run/systemd/machines && echo statedir
""" + f'{proxy} machine/vmcid 22; echo "exit $?"', "statedir\nexit 69",
            err=starts("ssh-proxy: cannot resolve machine/vmcid: systemd-machined is not "
                       "running (", lacks="256")),
        teardown("sid_teardown_leaves_nothing"),
    ]


FLAVOUR = Flavour("sid", "sid guest", SCENARIOS, steps)
