#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# examples_test.sh: runs every example of the man page and of the Markdown documents (README.md and
# the documents its depth moved to) and checks that the documents agree with the program and the
# ssh_config fragment.
#
#   examples_test.sh SSH_PROXY doc/ssh-proxy.1 conf/20-ssh-proxy.conf README.md [OTHER.md ...]
#
# What counts as an example (Markdown: fenced ``` blocks; man page: .Bd -literal blocks):
#   "$ ssh-proxy ARGS"  is run (stdin /dev/null, the binary as "ssh-proxy" on PATH); the lines
#                       after it, up to the next "$ " line or the end of the block, must equal its
#                       stdout and stderr together. "$ echo $?" prints the previous exit status.
#   "ssh ..." / "scp ..." (with or without "$ ", "# comments" dropped) is resolved with the real
#                       `ssh -G` against the fragment: the host must get ssh-proxy as ProxyCommand
#                       with ProxyUseFdpass, and that ProxyCommand, with %n and %p expanded as ssh
#                       does and --dry-run added, must exit 0 (so vsock examples never connect).
#                       An "ssh -o ProxyCommand=... -o ProxyUseFdpass=yes HOST" line (the README's
#                       try-it line) is resolved with its own options instead of the fragment, the
#                       binary standing for "$PWD/bazel-bin/ssh-proxy".
#   "ProxyCommand /usr/local/libexec/ssh-proxy ..." (Host aliases) runs with --dry-run too.
# Other lines (tools/demo.sh, bazel ..., tools/install.sh) are commands that CI runs itself.
# Also: the ssh_config blocks of the man page and of --help (whose Host patterns come from the
# grammar's table of prefixes) equal the fragment as installed with the default prefix, and --help
# names the binary's own path; every option --help lists is documented in the man page, and every
# exit code; README.md stays the way in (at most 160 lines).
# Prints "PASS name" / "FAIL name: why" per check and "N passed, N failed"; exits 1 on failure.
set -uo pipefail
# pass, fail, abspath and the PASSED/FAILED counters.
# shellcheck source=tests/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../check.sh"

if (($# < 4)); then
  echo "usage: $0 SSH_PROXY ssh-proxy.1 20-ssh-proxy.conf README.md [OTHER.md ...]" >&2
  exit 2
fi
proxy=$(abspath "$1")
manpage=$(abspath "$2")
conf=$(abspath "$3")
readme=$(abspath "$4")
shift 4
docs=("$readme")
for d in "$@"; do docs+=("$(abspath "$d")"); done
installed_path=/usr/local/libexec/ssh-proxy

tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/docs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/tryit/bazel-bin"
ln -s "$proxy" "$tmp/bin/ssh-proxy"
ln -s "$proxy" "$tmp/tryit/bazel-bin/ssh-proxy"


# Code blocks as lines, one empty line after each block.
# md_blocks FILE: the fenced blocks of a Markdown file.
md_blocks() {
  awk '/^```/ { if (inblock) print ""; inblock = !inblock; next } inblock' "$1"
}
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

# check_tryit_line NAME LINE: "ssh -o ProxyCommand=\"$PWD/bazel-bin/ssh-proxy '%n' %p\" -o
# ProxyUseFdpass=yes HOST", resolved by ssh -G with its own options (and no configuration file),
# the binary under test standing for $PWD/bazel-bin/ssh-proxy.
check_tryit_line() {
  local name=$1 line=$2
  line=${line#'$ '}
  line=${line%%#*}
  # The documented line is shell syntax; run it through the shell's own word splitting, with
  # ssh -G in place of ssh.
  local g
  if ! g=$(cd "$tmp/tryit" && PWD="$tmp/tryit" bash -c "ssh() { command ssh -F /dev/null -G \"\$@\"; }; $line" 2>&1); then
    fail "$name: $line" "ssh -G failed: $g"
    return
  fi
  local pc fd host
  pc=$(sed -n 's/^proxycommand //p' <<<"$g")
  fd=$(sed -n 's/^proxyusefdpass //p' <<<"$g")
  host=$(sed -n 's/^hostname //p' <<<"$g")
  if [[ $pc != "$tmp/tryit/bazel-bin/ssh-proxy "* || $fd != yes ]]; then
    fail "$name: $line" "not sent to bazel-bin/ssh-proxy with fd passing (proxycommand [$pc], proxyusefdpass [$fd])"
    return
  fi
  local expanded=${pc//%n/$host}
  expanded=${expanded//%p/22}
  local out rc
  out=$(cd "$tmp" && bash -c "exec ${expanded/ssh-proxy /ssh-proxy --dry-run }" </dev/null 2>&1)
  rc=$?
  if [[ $rc == 0 && $out == 'unix path='* ]]; then
    pass "$name: $line -> $out"
  else
    fail "$name: $line" "ProxyCommand with --dry-run: exit $rc, [$out]"
  fi
}

check_command_lines() {
  local name=$1 blocks=$2 line n=0
  while IFS= read -r line; do
    local t=${line#"${line%%[![:space:]]*}"}
    case $t in
      'ssh -o ProxyCommand='* | '$ ssh -o ProxyCommand='*)
        check_tryit_line "$name try-it example" "$t"
        n=$((n + 1))
        ;;
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
  local help opt missing_man=""
  help=$("$proxy" --help 2>&1)
  local rendered
  rendered=$(mandoc -Tascii "$manpage" 2>/dev/null | col -b)
  while IFS= read -r opt; do
    grep -qF -- "$opt" <<<"$rendered" || missing_man+=" $opt"
  done < <(grep -oE -- '--[a-z][a-z-]+' <<<"$help" | sort -u)
  if [[ -z $missing_man ]]; then
    pass "every --help option is documented in the man page"
  else
    fail "every --help option is documented in the man page" "it lacks:$missing_man"
  fi
  local code
  local -a missing=()
  for code in 0 64 69 71 75 76; do
    grep -qE "^\.It $code\$" "$manpage" || missing+=("man:$code")
  done
  if ((${#missing[@]} == 0)); then
    pass "exit codes 0 64 69 71 75 76 are documented in the man page"
  else
    fail "exit codes documented" "${missing[*]}"
  fi
}

run_transcripts man "$tmp/man.blocks"
check_command_lines man "$tmp/man.blocks"
check_fragment man "$tmp/man.blocks"
for doc in "${docs[@]}"; do
  name=${doc#"$PWD/"}
  md_blocks "$doc" >"$tmp/doc.blocks"
  # A document with no example of its own kind is fine; README.md must have both.
  if [[ $doc == "$readme" ]] || grep -q '^\$ ssh-proxy ' "$tmp/doc.blocks"; then
    run_transcripts "$name" "$tmp/doc.blocks"
  fi
  if [[ $doc == "$readme" ]] || grep -qE '^(\$ )?(ssh|scp) ' "$tmp/doc.blocks"; then
    check_command_lines "$name" "$tmp/doc.blocks"
  fi
done
# The man page's footer (.Os) carries the version --version prints.
os_version=$(sed -n 's/^\.Os ssh-proxy //p' "$manpage")
if [[ "ssh-proxy $os_version" == "$("$proxy" --version)" ]]; then
  pass "the man page's .Os names the version --version prints ($os_version)"
else
  fail "the man page's .Os names the version --version prints" ".Os [$os_version], --version [$("$proxy" --version)]"
fi
readme_lines=$(wc -l <"$readme")
if ((readme_lines <= 160)); then
  pass "README.md is the way in ($readme_lines lines)"
else
  fail "README.md is the way in" "$readme_lines lines; the reference belongs in the man page"
fi
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

check_summary
