// RowFilter: which rows of a segment a search may return.
//
// Indexes never know why a row is excluded (deleted, superseded by an update, failing a
// metadata filter); the engine hands them a RowFilter. Graph indexes still *traverse*
// excluded rows (so the graph stays connected) but never return them.
// Thread-safety: implementations must be safe for concurrent calls to allows().
#pragma once

#include <cstdint>

namespace quiver::index {

class RowFilter {
 public:
  virtual ~RowFilter() = default;
  // True when `row` may appear in the results.
  virtual bool allows(uint32_t row) const = 0;
  // An estimate of how many rows of [0, rows) pass; indexes use it to choose an exact scan
  // when few rows remain (a graph search would then visit most of the graph for nothing).
  virtual uint64_t estimated_allowed(uint32_t rows) const = 0;
};

}  // namespace quiver::index
