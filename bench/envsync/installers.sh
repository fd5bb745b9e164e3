#!/usr/bin/env bash
# The installers alone, with no slurmray in the way: a full install of the realistic stack into a new venv
# against the same installer changing pandas (2.2.2 <-> 2.2.3) in an existing venv of it, from the wheelhouse
# bench/envsync/run.ts downloads, caches warm, on the test bed's sshd as its user. What the env engine's
# "one changed package" goal is measured against (bench/envsync/README.md).
# Usage: bash scripts/test-cluster.sh up && bash bench/envsync/installers.sh [rounds=3]
set -euo pipefail
rounds=${1:-3}
here=$(cd "$(dirname "$0")/../.." && pwd)
eval "$(bash "$here/scripts/test-cluster.sh" env)"
wheels=/tmp/sr-bench-envsync/wheelhouse
[ -d "$wheels" ] || { echo "no wheelhouse at $wheels: run npx tsx bench/envsync/run.ts 0 1 0 once first" >&2; exit 2; }
ssh -F "$SLURMRAY_TB_SSH_CONFIG" srtb sh -s "$rounds" "$wheels" <<'REMOTE'
set -e
rounds=$1 wheels=$2
stack="numpy==2.4.6 scipy==1.17.1 scikit-learn==1.9.1"
dir=$(mktemp -d /tmp/sr-bench-installers-XXXXXX)
trap 'rm -rf "$dir"' EXIT
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
uv venv -q --python python3.11 "$dir/uv-held"
VIRTUAL_ENV="$dir/uv-held" uv pip install -q --no-index --find-links "$wheels" $stack pandas==2.2.2
python3.11 -m venv "$dir/pip-held"
"$dir/pip-held/bin/python" -m pip install -q --disable-pip-version-check --no-index --find-links "$wheels" $stack pandas==2.2.2
version=2.2.2
for round in $(seq "$rounds"); do
  [ "$version" = 2.2.2 ] && version=2.2.3 || version=2.2.2
  rm -rf "$dir/uv-full" "$dir/pip-full"
  t=$(date +%s%N); uv venv -q --python python3.11 "$dir/uv-full" && VIRTUAL_ENV="$dir/uv-full" uv pip install -q --no-index --find-links "$wheels" $stack pandas==$version; uv_full=$(ms "$t")
  t=$(date +%s%N); VIRTUAL_ENV="$dir/uv-held" uv pip install -q --no-index --find-links "$wheels" pandas==$version; uv_one=$(ms "$t")
  t=$(date +%s%N); python3.11 -m venv "$dir/pip-full" && "$dir/pip-full/bin/python" -m pip install -q --disable-pip-version-check --no-index --find-links "$wheels" $stack pandas==$version; pip_full=$(ms "$t")
  t=$(date +%s%N); "$dir/pip-held/bin/python" -m pip install -q --disable-pip-version-check --no-index --find-links "$wheels" pandas==$version; pip_one=$(ms "$t")
  echo "round $round: uv full $uv_full ms, pandas alone $uv_one ms; pip full $pip_full ms, pandas alone $pip_one ms"
done
REMOTE
