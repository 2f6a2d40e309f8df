# flat_bench: exact k-NN on Fashion-MNIST, Quiver's flat scan vs FAISS IndexFlatL2.
find_package(OpenMP)
find_package(faiss CONFIG QUIET)
if(TARGET quiver_index AND faiss_FOUND AND OpenMP_CXX_FOUND)
  add_executable(flat_bench ${CMAKE_CURRENT_LIST_DIR}/flat_bench.cc)
  target_link_libraries(flat_bench PRIVATE quiver_index quiver_bench_data faiss OpenMP::OpenMP_CXX)
else()
  message(STATUS "flat_bench skipped (needs quiver_index, libfaiss-dev and OpenMP)")
endif()
