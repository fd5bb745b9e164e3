# slurmray doctor's probe: prints facts about the target as key=value lines, in one remote command.
# $1: base dir (absolute, or starting with ~/), $2: the project's Python major.minor, $3: Python printing the
# site's pip configuration as uv's variables (export lines), $4: Python testing the index with them, $5: the
# target kind's own probe (sh printing key=value lines, from its backend; empty when it has none).
base=$1; want=$2
case $base in "~/"*) base="$HOME/${base#"~/"}";; "~") base=$HOME;; esac
echo "home=$HOME"
pythons=""
for v in 3.8 3.9 3.10 3.11 3.12 3.13 3.14; do command -v "python$v" >/dev/null 2>&1 && pythons="$pythons $v"; done
echo "pythons=$pythons"
echo "python_wanted=$(command -v "python$want" 2>/dev/null)"
# uv where the env engine looks for it: PATH, the usual per-user spots, slurmray's own install.
uv=$(command -v uv 2>/dev/null) || uv=
for c in "$HOME/.local/bin/uv" "$HOME/.cargo/bin/uv" "$base/tools/uv/bin/uv"; do [ -z "$uv" ] && [ -x "$c" ] && uv=$c; done
echo "uv=$uv"
if mkdir -p "$base" 2>/dev/null && chmod 700 "$base" && t="$base/.doctor.$$" && : > "$t" 2>/dev/null; then
  rm -f "$t"; echo "base_writable=yes"
else
  echo "base_writable=no"
fi
echo "base=$base"
if [ -n "${5:-}" ]; then ( eval "$5" ); fi
echo "free_kb=$(df -Pk "$base" 2>/dev/null | awk 'NR==2 {print $4}')"
# The package index, reached with the configuration installs will use (in a subshell: the variables stay there).
py=$(command -v "python$want" 2>/dev/null || command -v python3 2>/dev/null)
if [ -n "$py" ]; then
  ( sr_cfg=$("$py" -I -c "$3" 2>/dev/null) && eval "$sr_cfg"; "$py" -I -c "$4" 2>&1 )
fi
