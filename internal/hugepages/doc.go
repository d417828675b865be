// Package hugepages backs a keyhold node's large in-memory views with transparent huge pages
// (2 MiB pages) on Linux, where the kernel's default (THP "madvise") gives the Go heap 4 KiB
// pages only.
//
// Why: decisions, token checks and subject lookups read the views (about 1 GiB for a million
// role assignments) at random. On 4 KiB pages that is a quarter of a million page-table
// entries; every TLB miss walks them, and in a virtual machine the hypervisor pays for them
// too. On the 2-core benchmark machine (a paravirtualised guest) an idle process holding 1 GiB
// of 4 KiB pages tripled the 99th-percentile latency of an unrelated HTTP server next to it;
// the same gigabyte on 2 MiB pages did not (docs/performance.md, "Huge pages").
//
// How: Keep periodically reads /proc/self/maps, advises every private anonymous read-write
// mapping of at least MinMapping bytes (the Go runtime maps its heap in 64 MiB arenas, so in
// practice these are the heap) with MADV_HUGEPAGE, so that new memory there is faulted in as
// huge pages, and collapses with MADV_COLLAPSE (Linux 6.1 and later) the parts it has not
// advised before, so that the views already loaded move to huge pages too. Each byte is
// collapsed at most once: memory the Go runtime later returns to the kernel is left returned.
//
// The cost is memory: inside an advised mapping the kernel may fault in, or khugepaged may
// collapse, a whole 2 MiB page where 4 KiB would do, so the resident size can grow towards
// the size of the heap's mappings. --huge-pages=off (KEYHOLD_HUGE_PAGES) leaves memory to the
// kernel's default, as does GODEBUG=disablethp=1 or a kernel whose THP setting is "never".
package hugepages
