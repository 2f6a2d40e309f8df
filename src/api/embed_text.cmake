# Turns a text file into a C++ source defining `std::string_view <SYMBOL>()`.
# Usage: cmake -DINPUT=... -DOUTPUT=... -DSYMBOL=... -P embed_text.cmake
# Bytes are written as hex so that no content can break out of a string literal.
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR byte_count "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
"// Generated from ${INPUT} by embed_text.cmake. Do not edit.
#include <string_view>

namespace quiver::api {
namespace {
const char kBytes[] = {
${bytes}0x00};
}  // namespace
std::string_view ${SYMBOL}() { return std::string_view(kBytes, ${byte_count}); }
}  // namespace quiver::api
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
