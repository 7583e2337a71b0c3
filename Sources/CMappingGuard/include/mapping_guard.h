#ifndef TRAPLINE_MAPPING_GUARD_H
#define TRAPLINE_MAPPING_GUARD_H

#include <stddef.h>
#include <stdint.h>

/// Guards a read-only mapping of a file against the file shrinking under it.
///
/// Reading a page of a file mapping past the file's end raises SIGBUS, which kills the process:
/// a file truncated while Trapline reads it (a log rotated by copytruncate, a capture cut by
/// hand) would take every record read so far down with it. While a mapping is guarded, a SIGBUS
/// on one of its pages maps zero-filled anonymous pages over the rest of it instead, so the
/// reading thread goes on, and records where the bytes were lost; the reader asks
/// (`trapline_mapping_guard_lost_from`) and rejects what it read there. A SIGBUS anywhere else
/// goes to the handler that was installed before (or ends the process as it would have).
///
/// Returns the guard's slot, or -1 when every slot is taken (the mapping is then read unguarded).
int trapline_mapping_guard_add(const void *base, size_t length);

/// Ends the guard of `slot` (before the mapping is unmapped). Does nothing for -1.
void trapline_mapping_guard_remove(int slot);

/// The offset, from the mapping's start, of the first page whose bytes were lost (replaced by
/// zeros), or -1 while none was. Safe to call from any thread.
long trapline_mapping_guard_lost_from(int slot);

#endif
