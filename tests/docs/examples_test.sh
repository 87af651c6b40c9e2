#!/usr/bin/env bash
# examples_test.sh: runs every example of README.md and of the man page (doc/ssh-proxy.1) and
# checks that the documents agree with the program and the ssh_config fragment.
#
#   examples_test.sh SSH_PROXY README.md doc/ssh-proxy.1 conf/20-ssh-proxy.conf
#
# What counts as an example (README: fenced ``` blocks; man page: .Bd -literal blocks):
#   "$ ssh-proxy ARGS"  is run (stdin /dev/null, the binary as "ssh-proxy" on PATH); the lines
#                       after it, up to the next "$ " line or the end of the block, must equal its
#                       stdout and stderr together. "$ echo $?" prints the previous exit status.
#   "ssh ..." / "scp ..." (with or without "$ ", "# comments" dropped) is resolved with the real
#                       `ssh -G` against the fragment: the host must get ssh-proxy as ProxyCommand
#                       with ProxyUseFdpass, and that ProxyCommand, with %n and %p expanded as ssh
#                       does and --dry-run added, must exit 0 (so vsock examples never connect).
#   "ProxyCommand /usr/local/libexec/ssh-proxy ..." (Host aliases) runs with --dry-run too.
# Other lines (tools/demo.sh, bazel ..., tools/install.sh) are commands that CI runs itself.
# Also: the ssh_config blocks of both documents and of --help (whose Host patterns come from the
# grammar's table of prefixes) equal the fragment as installed with the default prefix; every
# option --help lists is documented in both; the README's exit code table matches the man page's.
# Prints "PASS name" / "FAIL name: why" per check and "N passed, N failed"; exits 1 on failure.
set -uo pipefail
# pass, fail, abspath and the PASSED/FAILED counters.
# shellcheck source=tests/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../check.sh"

if (($# != 4)); then
  echo "usage: $0 SSH_PROXY README.md ssh-proxy.1 20-ssh-proxy.conf" >&2
  exit 2
fi
proxy=$(abspath "$1")
readme=$(abspath "$2")
manpage=$(abspath "$3")
conf=$(abspath "$4")
installed_path=/usr/local/libexec/ssh-proxy

tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/docs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
ln -s "$proxy" "$tmp/bin/ssh-proxy"


# Code blocks as lines, one empty line after each block.
awk '/^```/ { if (inblock) print ""; inblock = !inblock; next } inblock' "$readme" >"$tmp/readme.blocks"
awk '/^\.Bd -literal/ { inblock = 1; next } /^\.Ed/ { if (inblock) print ""; inblock = 0; next }
  inblock { gsub(/\\&/, ""); gsub(/\\e/, "\\"); gsub(/\\-/, "-"); print }' "$manpage" \
  >"$tmp/man.blocks"

# The fragment as the install script writes it, once for the documents' path and once for ours.
sed "s|@SSH_PROXY@|$installed_path|g" "$conf" >"$tmp/fragment.default"
sed "s|@SSH_PROXY@|$tmp/bin/ssh-proxy|g" "$conf" >"$tmp/fragment.test"
grep -vE '^[[:space:]]*(#|$)' "$tmp/fragment.default" >"$tmp/fragment.lines"

# --- "$ ssh-proxy" examples -----------------------------------------------------------------------
# run_transcripts NAME BLOCKS: checks every "$ " command of BLOCKS against the lines after it.
run_transcripts() {
  local name=$1 blocks=$2 line cmd="" expected="" count=0 last_rc=0
  local -a lines
  mapfile -t lines <"$blocks"
  lines+=("")
  for line in "${lines[@]}"; do
    if [[ -n $cmd && ($line == '$ '* || -z $line) ]]; then
      # Run the pending command and compare.
      local out rc
      if [[ $cmd == 'echo $?' ]]; then
        out=$last_rc
        rc=0
      else
        out=$(cd "$tmp" && PATH="$tmp/bin:/usr/bin:/bin" bash -c "$cmd" </dev/null 2>&1)
        rc=$?
        last_rc=$rc
      fi
      if [[ $out == "${expected%$'\n'}" ]]; then
        pass "$name example: \$ $cmd"
      else
        fail "$name example: \$ $cmd" "got [$out] (exit $rc), documented [${expected%$'\n'}]"
      fi
      count=$((count + 1))
      cmd=""
      expected=""
    fi
    if [[ $line == '$ '* ]]; then
      cmd=${line#'$ '}
      case $cmd in
        ssh-proxy\ * | 'echo $?') ;;
        ssh\ * | scp\ *) cmd="" ;;  # checked by check_ssh_lines
        *)
          fail "$name example: \$ $cmd" "not a command this test knows how to check"
          cmd=""
          ;;
      esac
    elif [[ -n $cmd && -n $line ]]; then
      expected+="$line"$'\n'
    fi
  done
  if ((count == 0)); then
    fail "$name transcripts" "no \"\$ ssh-proxy\" example found"
  fi
}

# --- "ssh ..." and "scp ..." examples -------------------------------------------------------------
# check_ssh_line NAME LINE: resolves LINE's host through the fragment with ssh -G and runs the
# resulting ProxyCommand with --dry-run.
check_ssh_line() {
  local name=$1 line=$2
  line=${line#'$ '}
  line=${line%%#*}
  local -a words
  read -ra words <<<"$line"
  local tool=${words[0]} host="" port=22 i w
  local -a ssh_args=()
  if [[ $tool == ssh ]]; then
    for ((i = 1; i < ${#words[@]}; i++)); do
      w=${words[i]}
      case $w in
        -p) port=${words[++i]}; ssh_args+=(-p "$port") ;;
        -[BbcDEeFIiJLlmOoQRSWw]) ssh_args+=("$w" "${words[++i]}") ;;
        -*) ssh_args+=("$w") ;;
        *) host=${w#*@}; break ;;
      esac
    done
  else
    for ((i = 1; i < ${#words[@]}; i++)); do
      w=${words[i]}
      case $w in
        -P) port=${words[++i]} ;;
        -[cFiJloPS]) i=$((i + 1)) ;;
        -*) ;;
        *:*) host=${w%%:*}; host=${host#*@} ;;
      esac
    done
    ssh_args=(-p "$port")
  fi
  if [[ -z $host ]]; then
    fail "$name: $line" "no host found"
    return
  fi
  local g
  if ! g=$(ssh -G -F "$tmp/fragment.test" "${ssh_args[@]}" "$host" 2>&1); then
    fail "$name: $line" "ssh -G failed: $g"
    return
  fi
  local pc fd
  pc=$(sed -n 's/^proxycommand //p' <<<"$g")
  fd=$(sed -n 's/^proxyusefdpass //p' <<<"$g")
  port=$(sed -n 's/^port //p' <<<"$g")
  if [[ $pc != "$tmp/bin/ssh-proxy "* || $fd != yes ]]; then
    fail "$name: $line" "the fragment does not send \"$host\" to ssh-proxy (proxycommand [$pc], proxyusefdpass [$fd])"
    return
  fi
  # Expand as ssh does: %n is the host as typed, %p the port, %% a percent sign.
  local expanded="" rest=${pc#"$tmp/bin/ssh-proxy"} c
  while [[ -n $rest ]]; do
    c=${rest:0:2}
    case $c in
      %n) expanded+=$host; rest=${rest:2} ;;
      %p) expanded+=$port; rest=${rest:2} ;;
      %%) expanded+=%; rest=${rest:2} ;;
      *) expanded+=${rest:0:1}; rest=${rest:1} ;;
    esac
  done
  local out rc
  out=$(cd "$tmp" && bash -c "exec \"\$0\" --dry-run $expanded" "$tmp/bin/ssh-proxy" </dev/null 2>&1)
  rc=$?
  if [[ $rc == 0 && $out =~ ^(unix|vsock|vsock-mux)\ path=|^vsock\ cid= ]]; then
    pass "$name: $line -> $out"
  else
    fail "$name: $line" "ProxyCommand with --dry-run: exit $rc, [$out]"
  fi
}

# check_alias_line NAME LINE: a "ProxyCommand /usr/local/libexec/ssh-proxy ARGS" of a Host alias.
check_alias_line() {
  local name=$1 line=$2
  local args=${line#*"ProxyCommand $installed_path"}
  args=${args//%p/22}
  args=${args//%n/vsock\/4711}
  local out rc
  out=$(cd "$tmp" && bash -c "exec \"\$0\" --dry-run $args" "$tmp/bin/ssh-proxy" </dev/null 2>&1)
  rc=$?
  if [[ $rc == 0 ]]; then
    pass "$name: $line -> $out"
  else
    fail "$name: $line" "with --dry-run: exit $rc, [$out]"
  fi
}

check_command_lines() {
  local name=$1 blocks=$2 line n=0
  while IFS= read -r line; do
    local t=${line#"${line%%[![:space:]]*}"}
    case $t in
      '$ ssh '* | '$ scp '* | 'ssh '* | 'scp '*)
        check_ssh_line "$name ssh example" "$t"
        n=$((n + 1))
        ;;
      "ProxyCommand $installed_path '%n' %p") ;;  # the fragment itself (compared below)
      "ProxyCommand $installed_path "*)
        check_alias_line "$name alias" "$t"
        ;;
    esac
  done <"$blocks"
  ((n > 0)) || fail "$name ssh examples" "none found"
}

# --- the ssh_config fragment as documented ---------------------------------------------------------
# check_fragment NAME BLOCKS: some block's "Host unix/* ..." section equals the installed fragment.
check_fragment() {
  local name=$1 blocks=$2
  awk '/^[[:space:]]*Host unix\/\*/ { on = 1 } on && /^[[:space:]]*$/ { exit } on' "$blocks" |
    sed 's/^[[:space:]]*//' >"$tmp/$name.fragment"
  sed 's/^[[:space:]]*//' "$tmp/fragment.lines" >"$tmp/fragment.cmp"
  if diff -u "$tmp/fragment.cmp" "$tmp/$name.fragment" >"$tmp/diff"; then
    pass "$name shows the installed ssh_config fragment"
  else
    fail "$name shows the installed ssh_config fragment" "$(cat "$tmp/diff")"
  fi
}

# --- options and exit codes -----------------------------------------------------------------------
check_options() {
  local help opt missing_man="" missing_readme=""
  help=$("$proxy" --help 2>&1)
  local rendered
  rendered=$(mandoc -Tascii "$manpage" 2>/dev/null | col -b)
  while IFS= read -r opt; do
    grep -qF -- "$opt" <<<"$rendered" || missing_man+=" $opt"
    grep -qF -- "\`$opt" "$readme" || missing_readme+=" $opt"
  done < <(grep -oE -- '--[a-z][a-z-]+' <<<"$help" | sort -u)
  if [[ -z $missing_man$missing_readme ]]; then
    pass "every --help option is documented in the man page and README"
  else
    fail "every --help option is documented" "man page lacks:${missing_man:- -}; README lacks:${missing_readme:- -}"
  fi
  local code
  local -a missing=()
  for code in 0 64 69 71 75 76; do
    grep -qE "^\| $code \|" "$readme" || missing+=("README:$code")
    grep -qE "^\.It $code\$" "$manpage" || missing+=("man:$code")
  done
  if ((${#missing[@]} == 0)); then
    pass "exit codes 0 64 69 71 75 76 are documented in both"
  else
    fail "exit codes documented" "${missing[*]}"
  fi
}

run_transcripts README "$tmp/readme.blocks"
run_transcripts man "$tmp/man.blocks"
check_command_lines README "$tmp/readme.blocks"
check_command_lines man "$tmp/man.blocks"
check_fragment README "$tmp/readme.blocks"
check_fragment man "$tmp/man.blocks"
# --help names the path the binary runs from (/proc/self/exe), not the install default.
"$proxy" --help >"$tmp/help.text" 2>&1
sed "s|ProxyCommand $(readlink -f "$proxy") |ProxyCommand $installed_path |" "$tmp/help.text" \
  >"$tmp/help.default"
if grep -qF "ProxyCommand $(readlink -f "$proxy") '%n' %p" "$tmp/help.text"; then
  pass "--help's ssh_config sample names the binary's own path"
else
  fail "--help's ssh_config sample names the binary's own path" "$(grep ProxyCommand "$tmp/help.text")"
fi
check_fragment --help "$tmp/help.default"
check_options

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
