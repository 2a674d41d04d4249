# Sourced by the eng/ scripts that run libtorch in their own process (tests, benchmarks, the results grid): glibc's
# malloc with one arena, transparent huge pages, every block from the heap (no mmap) and freed memory kept, the
# settings the tool gives itself. They are written once, in src/Dsg.Tool/AllocatorRelaunch.cs (MallocTunables), and
# read from there; a glibc.malloc tunable or MALLOC_ARENA_MAX set already is kept, as the tool keeps it.
# Without them a generation step faults in its activations page by page; on the 2-core reference VM that made a
# ResNet-18 step at 224 × 224 2-7× slower (docs/performance.md, "Page faults").
dsg_malloc_tunables="$(sed -n 's/^ *internal const string MallocTunables = "\([^"]*\)";.*/\1/p' \
  "$(dirname "${BASH_SOURCE[0]}")/../src/Dsg.Tool/AllocatorRelaunch.cs")"
if [ -z "$dsg_malloc_tunables" ]; then
  echo "eng/native-allocator.sh: no MallocTunables constant in src/Dsg.Tool/AllocatorRelaunch.cs" >&2
  return 1
fi
case "${MALLOC_ARENA_MAX+set}:${GLIBC_TUNABLES:-}:" in
  set:* | *:glibc.malloc.*) ;;
  *)
    export MALLOC_ARENA_MAX=1
    export GLIBC_TUNABLES="${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}$dsg_malloc_tunables"
    ;;
esac
unset dsg_malloc_tunables
