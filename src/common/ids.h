// Identifier helpers: random UUID v4 generation and the contract's id/name syntax.
// Thread-safe (each thread has its own random engine).
#pragma once

#include <string>
#include <string_view>

namespace quiver {

// A random RFC 4122 version-4 UUID in lower-case canonical form.
std::string new_uuid_v4();

// ^[A-Za-z0-9_.:-]{1,128}$ : client-given ids of libraries, documents and chunks.
bool is_valid_id(std::string_view id);

// ^[A-Za-z0-9_.-]{1,128}$ : library names.
bool is_valid_library_name(std::string_view name);

}  // namespace quiver
