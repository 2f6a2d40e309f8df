#include "api/api.h"

namespace quiver::api {

BuildInfo build_info() { return {QUIVER_VERSION_STRING, QUIVER_GIT_SHA_STRING}; }

}  // namespace quiver::api
