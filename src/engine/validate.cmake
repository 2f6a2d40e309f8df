# quiver_engine_validate: request validation and the fixed metadata schema (pure functions).
# Included from src/engine/CMakeLists.txt:  include(${CMAKE_CURRENT_SOURCE_DIR}/validate.cmake)
# Then link quiver_engine against quiver_engine_validate (or add schema.cc validate.cc to it).
#
# validate.cc calls index::normalize_index_config / index::validate_search_params
# (quiver_index) and embed::validate_config (quiver_embed). While one of those libraries is
# not a target yet, the tests compile stand-ins for its functions (see validate_test.cc) so
# this piece builds and tests on its own; once the target exists the real one is used.
set(_quiver_validate_dir ${CMAKE_CURRENT_LIST_DIR})

add_library(quiver_engine_validate STATIC
  ${_quiver_validate_dir}/schema.cc
  ${_quiver_validate_dir}/validate.cc)
target_link_libraries(quiver_engine_validate PUBLIC quiver_common)

set(_quiver_validate_fakes "")
if(TARGET quiver_index)
  target_link_libraries(quiver_engine_validate PUBLIC quiver_index)
else()
  list(APPEND _quiver_validate_fakes QUIVER_VALIDATE_FAKE_INDEX=1)
endif()
if(TARGET quiver_embed)
  target_link_libraries(quiver_engine_validate PUBLIC quiver_embed)
else()
  list(APPEND _quiver_validate_fakes QUIVER_VALIDATE_FAKE_EMBED=1)
endif()

quiver_add_test(schema_test
  SOURCES ${_quiver_validate_dir}/schema_test.cc
  LIBS quiver_engine_validate
  LABELS engine)
quiver_add_test(validate_test
  SOURCES ${_quiver_validate_dir}/validate_test.cc
  LIBS quiver_engine_validate
  LABELS engine)
if(TARGET validate_test AND _quiver_validate_fakes)
  target_compile_definitions(validate_test PRIVATE ${_quiver_validate_fakes})
endif()
