#!/usr/bin/env bash
# Measures what a CI build of testassets/SampleApp costs with a remote cache (the figures in docs/ci.md).
# Each build is of a clean checkout (a fresh copy of SampleApp and its model: no obj/, no bin/), against a local nginx
# with WebDAV on a free loopback port:
#   cold        empty local cache, empty remote, mode readwrite: generates, stores, uploads
#   remote-hit  empty local cache, warm remote, mode read (a pull-request job on a fresh runner): downloads
#   local-hit   warm local cache (actions/cache restored it), remote set: copies, asks the remote nothing
#   no-op       the local-hit checkout built again: the quantize target is skipped
# A warm-up build (DsgSkip=true) first restores and compiles once, so every measured build has the same NuGet state.
# Then the tool alone: quantize with a remote hit and with a local hit (the command's own "seconds").
# Usage: eng/remote-cache-bench.sh [ROUNDS]   (default 3; needs eng/install-deps.sh's nginx packages)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
rounds=${1:-3}
work=$(mktemp -d /tmp/dsg-remote-bench.XXXXXX)
nginx_pid=""
cleanup() {
  if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build src/Dsg.Tool -c Debug -nologo -v q >/dev/null
tool=$repo/src/Dsg.Tool/bin/Debug/net10.0/dotnet-dsg
version="0.1.0-bench.$(date +%Y%m%d%H%M%S)"
dotnet pack src/Dsg.Build.Tasks/Dsg.Build.Tasks.csproj -c IntegrationTest -o "$work/feed" -nr:false -tl:off -p:Version="$version" -nologo -v q >/dev/null
cat > "$work/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <config><add key="globalPackagesFolder" value="$work/packages" /></config>
  <fallbackPackageFolders><add key="user" value="${NUGET_PACKAGES:-$HOME/.nuget/packages}" /></fallbackPackageFolders>
</configuration>
EOF

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx/root" "$work/nginx/temp"
cat > "$work/nginx/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_http_dav_ext_module.so;
daemon off;
master_process off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $work/nginx/temp/body;
  proxy_temp_path $work/nginx/temp/proxy;
  fastcgi_temp_path $work/nginx/temp/fastcgi;
  uwsgi_temp_path $work/nginx/temp/uwsgi;
  scgi_temp_path $work/nginx/temp/scgi;
  server {
    listen 127.0.0.1:$port;
    root $work/nginx/root;
    client_max_body_size 0;
    location / {
      dav_methods PUT DELETE MKCOL COPY MOVE;
      dav_ext_methods PROPFIND OPTIONS;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }
  }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
nginx_pid=$!
sleep 1

checkout() { # a clean checkout: SampleApp and its model, nothing built
  local dir=$work/$1
  mkdir -p "$dir/SampleApp" "$dir/models"
  cp "$repo"/testassets/SampleApp/* "$dir/SampleApp/"
  cp "$repo/testassets/models/resnet_fmnist.onnx" "$dir/models/"
  echo "$dir/SampleApp/SampleApp.csproj"
}

task_ms() { # task_ms LOG TASK: the task's time in the build's performance summary, in ms (0 when it did not run)
  awk -v task="$2" '$2 == "ms" && $3 == task { print $1; found = 1 } END { if (!found) print 0 }' "$1" | tail -1
}

build() { # build NAME PROJECT CACHE EXTRA...: one timed dotnet build, the Dsg tasks' share, its Dsg line
  local name=$1 project=$2 cache=$3
  shift 3
  local start end log=$work/$name.log
  start=$(date +%s.%N)
  dotnet build "$project" -nr:false -tl:off -clp:PerformanceSummary -p:DsgLocalFeed="$work/feed" -p:DsgBuildVersion="$version" \
    -p:DsgToolPath="$tool" -p:DsgCacheDir="$cache" "$@" >"$log" 2>&1 || { cat "$log"; exit 1; }
  end=$(date +%s.%N)
  local quantize check prepare
  quantize=$(task_ms "$log" DsgQuantizeModel)
  check=$(task_ms "$log" DsgCheckToolVersion)
  prepare=$(task_ms "$log" DsgPrepareQuantize)
  printf '%-11s %6.1f s  (Dsg tasks %5.1f s, of which quantize %5.1f s)  %s\n' "$name" "$(echo "$end - $start" | bc)" \
    "$(echo "($quantize + $check + $prepare) / 1000" | bc -l)" "$(echo "$quantize / 1000" | bc -l)" \
    "$(grep -o 'Dsg: .*' "$log" | head -1 || echo '(quantize target skipped)')"
}

build warm-up "$(checkout warm-up)" "$work/warm-up-cache" -p:DsgSkip=true >/dev/null
echo "dotnet build of a clean checkout of testassets/SampleApp (wall time), nginx WebDAV on 127.0.0.1:$port"
for round in $(seq 1 "$rounds"); do
  url="http://127.0.0.1:$port/round$round/"
  build cold "$(checkout "cold$round")" "$work/cache-cold$round" -p:DsgRemoteCache="$url"
  build remote-hit "$(checkout "remote$round")" "$work/cache-ci$round" -p:DsgRemoteCache="$url" -p:DsgRemoteCacheMode=read
  local_project=$(checkout "local$round")
  build local-hit "$local_project" "$work/cache-ci$round" -p:DsgRemoteCache="$url" -p:DsgRemoteCacheMode=read
  build no-op "$local_project" "$work/cache-ci$round" -p:DsgRemoteCache="$url" -p:DsgRemoteCacheMode=read
done

echo "dotnet-dsg quantize alone (the result line's seconds; Samples 32, Iterations 20, BatchSize 32, Seed 1 as in the SampleApp)"
args=(quantize "$repo/testassets/models/resnet_fmnist.onnx" --precision W8A8 --samples 32 --iterations 20 --batch-size 32 --seed 1 --json)
for round in $(seq 1 "$rounds"); do
  url="http://127.0.0.1:$port/tool$round/"
  "$tool" "${args[@]}" --out "$work/t$round/cold.onnx" --cache-dir "$work/tc-a$round" --remote-cache "$url" >/dev/null
  remote=$("$tool" "${args[@]}" --out "$work/t$round/remote.onnx" --cache-dir "$work/tc-b$round" --remote-cache "$url" | grep '"type":"result"')
  local_hit=$("$tool" "${args[@]}" --out "$work/t$round/local.onnx" --cache-dir "$work/tc-b$round" --remote-cache "$url" | grep '"type":"result"')
  echo "remote hit $(grep -o '"seconds":[0-9.]*' <<<"$remote" | cut -d: -f2) s (remoteHit $(grep -o '"remoteHit":[a-z]*' <<<"$remote" | cut -d: -f2)), local hit $(grep -o '"seconds":[0-9.]*' <<<"$local_hit" | cut -d: -f2) s"
done
