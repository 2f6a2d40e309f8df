// Translation of rocksdb::Status into quiver::Status: the one place it happens.
// Thread-safety: pure function.
#pragma once

#include <string_view>

#include <rocksdb/status.h>

#include "common/status.h"

namespace quiver::storage {

// NoSpace -> kStorageFull, Corruption -> kCorruption, anything else -> kIOError; OK -> OK.
// `what` names the operation for the message ("write", "get", "open /data").
Status from_rocks(const rocksdb::Status& s, std::string_view what);

}  // namespace quiver::storage
