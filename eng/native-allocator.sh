# Sourced by the eng/ scripts that run libtorch in their own process (tests, benchmarks, the results grid): glibc's
# malloc with one arena, transparent huge pages, every block from the heap (no mmap) and freed memory kept, the
# settings the tool gives itself (src/Dsg.Tool/AllocatorRelaunch.cs, MallocTunables; a glibc.malloc tunable set
# already is kept, as the tool keeps it).
# Without them a generation step faults in its activations page by page; on the 2-core reference VM that made a
# ResNet-18 step at 224 × 224 2-7× slower (docs/performance.md, "Page faults").
export MALLOC_ARENA_MAX=1
case ":${GLIBC_TUNABLES:-}:" in
  *:glibc.malloc.*) ;;
  *) export GLIBC_TUNABLES="${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}glibc.malloc.hugetlb=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184" ;;
esac
