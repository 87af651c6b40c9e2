#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# hardening-check.sh: checks the hardening of the release binary in its ELF, one line per property,
# and exits non-zero if one is missing.
#
#   tools/hardening-check.sh                   bazel build --config=release //:ssh-proxy, then check
#                                              it and our object files under bazel-bin/src/_objs
#   tools/hardening-check.sh --binary=FILE [--objects=DIR] [--link-only]
#                                              check FILE (and the .o files below DIR)
#
# --link-only checks only what the link decides and holds for every configuration (PIE, RELRO,
# BIND_NOW, NX stack, no TEXTREL/RPATH, a stack protector): //tests/install:hardening_test runs it
# on the fastbuild binary inside `bazel test`. The full check wants the release build: it also reads
# the compiler switches gcc recorded in .GCC.command.line (-frecord-gcc-switches).
#
# Why not just Debian's hardening-check (devscripts)? It reads the dynamic symbol table, which a
# static PIE does not have: it reports "Stack protected: no" and "Fortify: unknown" for this binary
# although both are compiled in. It is run at the end for information only.
# What the checks read:
#   PIE            ELF type DYN and static-pie (no PT_INTERP) or a PT_INTERP PIE (readelf -h, -l)
#   RELRO          a PT_GNU_RELRO segment
#   BIND_NOW       DT_FLAGS has BIND_NOW or DT_FLAGS_1 has NOW (full RELRO = both)
#   NX stack       PT_GNU_STACK without E
#   stack protector __stack_chk_fail in .symtab, referenced by our objects, and
#                  -fstack-protector-strong (or -all) as the last -fstack-protector* switch
#   fortify        *_chk functions in .symtab, referenced by our objects, and optimisation >= -O1
#                  (gcc does not record -D options, so _FORTIFY_SOURCE=2 itself is taken from the
#                  compile actions: bazel aquery, when this script builds)
#   stack clash    -fstack-clash-protection recorded for every object
#   CET            -fcf-protection (=full) recorded; our objects' .note.gnu.property says IBT, SHSTK.
#                  The binary cannot carry the note: Debian 12's libabsl_*.a objects have none, so
#                  the linker drops it (reported, not a failure, once that cause is verified).
#
# BAZEL_STARTUP_OPTIONS and BAZEL_BUILD_OPTIONS (empty by default) are passed to bazel, as in
# tools/demo.sh.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
binary=""
objects=""
link_only=0
for arg in "$@"; do
  case $arg in
    --binary=*) binary=${arg#*=} ;;
    --objects=*) objects=${arg#*=} ;;
    --link-only) link_only=1 ;;
    -h | --help)
      sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "hardening-check.sh: unknown argument \"$arg\"" >&2
      exit 2
      ;;
  esac
done
for tool in readelf nm; do
  command -v "$tool" >/dev/null || {
    echo "hardening-check.sh: needs $tool (binutils)" >&2
    exit 2
  }
done

fortify_from_actions=""
if [[ -z $binary ]]; then
  read -ra startup <<<"${BAZEL_STARTUP_OPTIONS:-}"
  read -ra build_opts <<<"${BAZEL_BUILD_OPTIONS:-}"
  echo "== bazel build --config=release //:ssh-proxy"
  (cd "$root" && bazel "${startup[@]}" build --config=release "${build_opts[@]}" //:ssh-proxy) ||
    exit 1
  bin_dir=$(cd "$root" && bazel "${startup[@]}" info --config=release "${build_opts[@]}" \
    bazel-bin 2>/dev/null) || exit 1
  binary=$bin_dir/ssh-proxy
  objects=$bin_dir/src/_objs
  # gcc records no -D switches: take _FORTIFY_SOURCE from the compile actions of //src, where the
  # last -D_FORTIFY_SOURCE/-U_FORTIFY_SOURCE decides.
  fortify_from_actions=$(cd "$root" && bazel "${startup[@]}" aquery --config=release \
    "${build_opts[@]}" --output=text 'mnemonic("CppCompile", deps(//src:main))' 2>/dev/null |
    awk '/^  Command Line:/ { on = 1 } on && /_FORTIFY_SOURCE/ { last = $0 } /^$/ { if (on && last != "") print last; on = 0; last = "" }' |
    sed -E 's/.*(-[UD]_FORTIFY_SOURCE(=[0-9])?).*/\1/' | sort | uniq -c)
fi
[[ -f $binary ]] || {
  echo "hardening-check.sh: no binary at $binary" >&2
  exit 2
}

failures=0
report() {  # report yes|no|info PROPERTY DETAIL
  local verdict=$1 property=$2 detail=$3
  printf '%-18s %-4s %s\n' "$property:" "$verdict" "$detail"
  [[ $verdict == no ]] && failures=$((failures + 1))
  return 0
}

header=$(readelf -hW "$binary")
segments=$(readelf -lW "$binary")
dynamic=$(readelf -dW "$binary" 2>/dev/null)
symbols=$(nm "$binary" 2>/dev/null)
echo "== $binary"

# PIE
type=$(awk '/^ *Type:/ { print $2 }' <<<"$header")
if [[ $type == DYN ]] && grep -q 'INTERP' <<<"$segments"; then
  report yes PIE "ET_DYN with an interpreter (dynamic PIE)"
elif [[ $type == DYN ]] && grep -qE 'FLAGS_1.*PIE' <<<"$dynamic"; then
  report yes PIE "ET_DYN, no interpreter, DF_1_PIE: static-pie"
else
  report no PIE "ELF type $type ($(grep -q INTERP <<<"$segments" && echo dynamic || echo static))"
fi

# RELRO and BIND_NOW
if grep -q 'GNU_RELRO' <<<"$segments"; then
  report yes RELRO "PT_GNU_RELRO present"
else
  report no RELRO "no PT_GNU_RELRO segment"
fi
if grep -qE '\(FLAGS\).*BIND_NOW' <<<"$dynamic" || grep -qE '\(FLAGS_1\).*NOW' <<<"$dynamic"; then
  report yes BIND_NOW "$(grep -E '\((FLAGS|FLAGS_1)\)' <<<"$dynamic" | sed -E 's/^ *0x[0-9a-f]+ +//' | tr -s ' ' | paste -sd';')"
else
  report no BIND_NOW "neither DT_FLAGS BIND_NOW nor DT_FLAGS_1 NOW (partial RELRO only)"
fi

# NX stack, TEXTREL, RPATH
stack=$(grep -E 'GNU_STACK' <<<"$segments" | awk '{ print $(NF-1) }')
if [[ -n $stack && $stack != *E* ]]; then
  report yes "NX stack" "PT_GNU_STACK flags $stack"
else
  report no "NX stack" "PT_GNU_STACK ${stack:-missing}"
fi
if grep -qE '\(TEXTREL\)|FLAGS\).*TEXTREL' <<<"$dynamic"; then
  report no "no TEXTREL" "text relocations present"
else
  report yes "no TEXTREL" "none"
fi
if grep -qE '\((RPATH|RUNPATH)\)' <<<"$dynamic"; then
  report no "no RPATH" "$(grep -E '\((RPATH|RUNPATH)\)' <<<"$dynamic" | tr -s ' ')"
else
  report yes "no RPATH" "none"
fi

# Our object files (when known): what they reference and their CET notes.
objs=()
if [[ -n $objects && -d $objects ]]; then
  # Prefer exactly the objects the binary was linked from: gcc recorded each one's
  # -frandom-seed=bazel-out/.../NAME.o (Bazel sets it to the output path).
  execroot=${objects%%/bazel-out/*}
  while IFS= read -r seed; do
    [[ -f $execroot/$seed ]] && objs+=("$execroot/$seed")
  done < <(readelf -p .GCC.command.line "$binary" 2>/dev/null |
    grep -oE -- '-frandom-seed=bazel-out/[^ ]+\.o' | sed 's/^-frandom-seed=//' | sort -u)
  if ((${#objs[@]} == 0)); then
    mapfile -t objs < <(find "$objects" -name '*.o' | sort)
  fi
fi
obj_refs() {  # obj_refs REGEX: how many of our objects reference a symbol matching REGEX
  local o n=0
  for o in "${objs[@]}"; do
    nm -u "$o" 2>/dev/null | grep -qE "$1" && n=$((n + 1))
  done
  echo "$n"
}

# Stack protector
if grep -qE ' __stack_chk_fail$' <<<"$symbols"; then
  detail="__stack_chk_fail in .symtab"
  if ((${#objs[@]} > 0)); then
    n=$(obj_refs ' __stack_chk_fail$')
    detail+=", referenced by $n of our ${#objs[@]} objects"
    if ((n == 0)); then
      report no "stack protector" "$detail (only libraries use it)"
    else
      report yes "stack protector" "$detail"
    fi
  else
    report yes "stack protector" "$detail"
  fi
else
  report no "stack protector" "no __stack_chk_fail in .symtab"
fi

# The rest needs the recorded switches (release build) unless --link-only.
if ((link_only)); then
  echo "(--link-only: compiler switches, fortify and CET are checked on the release build by tools/hardening-check.sh)"
else
  switches=$(readelf -p .GCC.command.line "$binary" 2>/dev/null | sed -n 's/^ *\[ *[0-9a-f]*\] *//p')
  if [[ -z $switches ]]; then
    report no "recorded switches" "no .GCC.command.line section (build with --config=release)"
  else
    count=$(wc -l <<<"$switches")
    # last_of REGEX: for every recorded command line, the last switch matching REGEX.
    last_of() { awk -v re="$1" '{ last = "-"; for (i = 1; i <= NF; i++) if ($i ~ re) last = $i; print last }' <<<"$switches" | sort | uniq -c | sed 's/^ *//'; }
    check_switch() {  # check_switch PROPERTY REGEX GOOD_REGEX
      local property=$1 re=$2 good=$3 lasts
      lasts=$(last_of "$re")
      if ! grep -vqE " ($good)\$" <<<"$lasts"; then
        report yes "$property" "all $count recorded command lines: $(paste -sd' ' <<<"$lasts")"
      else
        report no "$property" "last switch per command line: $(paste -sd' ' <<<"$lasts")"
      fi
    }
    check_switch "-fstack-protector" '^-f(no-)?stack-protector' '-fstack-protector-(strong|all)'
    check_switch "stack clash" '^-f(no-)?stack-clash-protection$' '-fstack-clash-protection'
    check_switch "-fcf-protection" '^-f(no-)?cf-protection' '-fcf-protection(=full)?'
    check_switch "optimisation" '^-O' '-O([1-3]|s|fast|z)?'
    fortify_syms=$(grep -oE ' __[a-z0-9_]+_chk$' <<<"$symbols" | grep -v stack_chk | sort -u | tr -d ' ' | paste -sd' ')
    if [[ -z $fortify_syms ]]; then
      report no fortify "no *_chk function in .symtab"
    else
      detail="*_chk in .symtab: $fortify_syms"
      ok=1
      if ((${#objs[@]} > 0)); then
        n=$(obj_refs ' __[a-z0-9_]+_chk$')
        detail+="; referenced by $n of our objects"
        ((n > 0)) || ok=0
      fi
      if [[ -n $fortify_from_actions ]]; then
        # shellcheck disable=SC2001  # strips each line's indent; ${var//} cannot anchor per line.
        detail+="; compile actions: $(sed 's/^ *//' <<<"$fortify_from_actions" | paste -sd' ')"
        grep -qvE '^ *[0-9]+ -D_FORTIFY_SOURCE=[23]$' <<<"$fortify_from_actions" && ok=0
      fi
      if ((ok)); then report yes fortify "$detail"; else report no fortify "$detail"; fi
    fi
  fi

  # CET
  note=$(readelf -nW "$binary" 2>/dev/null | grep -E 'x86 feature' | sed -E 's/.*x86 feature: //' | head -1)
  if [[ $note == *IBT* && $note == *SHSTK* ]]; then
    report yes "CET marking" "the binary's .note.gnu.property: $note"
  else
    if ((${#objs[@]} > 0)); then
      unmarked=0
      for o in "${objs[@]}"; do
        n=$(readelf -nW "$o" 2>/dev/null | grep -E 'x86 feature' | sed -E 's/.*x86 feature: //')
        [[ $n == *IBT* && $n == *SHSTK* ]] || unmarked=$((unmarked + 1))
      done
      if ((unmarked == 0)); then
        report yes "CET (our code)" "all ${#objs[@]} of our objects carry IBT, SHSTK"
      else
        report no "CET (our code)" "$unmarked of ${#objs[@]} objects lack IBT/SHSTK"
      fi
    fi
    # Verify the stated cause: an abseil archive member without the note.
    absl=$(ls /usr/lib/x86_64-linux-gnu/libabsl_strings.a 2>/dev/null)
    if [[ -n $absl ]] && ! readelf -nW "$absl" 2>/dev/null | grep -q 'IBT'; then
      report info "CET marking" "not possible with Debian's absl (no IBT note in libabsl_*.a, e.g. $absl), so the linker leaves the binary unmarked"
    else
      report no "CET marking" "the binary has no IBT/SHSTK note (${note:-none}) and abseil is not the cause"
    fi
  fi
fi

if command -v hardening-check >/dev/null; then
  echo "== Debian's hardening-check, for information (it cannot judge a static binary):"
  hardening-check "$binary" 2>&1 | sed 's/^/    /'
fi

if ((failures == 0)); then
  echo "hardening: PASS"
else
  echo "hardening: FAIL ($failures missing)"
  exit 1
fi
