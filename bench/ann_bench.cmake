# ann_bench: recall@10 vs QPS on Fashion-MNIST for Quiver's hnsw against hnswlib and FAISS
# (docs/indexes/hnsw.md). hnswlib is header-only and is compiled here, in this target only,
# with -O3 -march=native as its authors intend; nothing in src/ gets these flags (Quiver's
# kernels are chosen at run time).
find_package(OpenMP)
find_package(faiss CONFIG QUIET)
if(TARGET quiver_index AND faiss_FOUND AND OpenMP_CXX_FOUND AND EXISTS /usr/include/hnswlib/hnswlib.h)
  add_executable(ann_bench ${CMAKE_CURRENT_LIST_DIR}/ann_bench.cc ${CMAKE_CURRENT_LIST_DIR}/ann_datasets.cc)
  target_compile_options(ann_bench PRIVATE -O3 -march=native)
  target_compile_definitions(ann_bench PRIVATE QUIVER_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  target_link_libraries(ann_bench PRIVATE quiver_index quiver_bench_data faiss OpenMP::OpenMP_CXX)
else()
  message(STATUS "ann_bench skipped (needs quiver_index, libfaiss-dev, OpenMP and libhnswlib-dev)")
endif()
