# The KD-tree dimensionality study (docs/indexes/kdtree.md): build/kdtree_dims prints a table.
add_executable(kdtree_dims ${CMAKE_CURRENT_LIST_DIR}/kdtree_dims.cc)
target_link_libraries(kdtree_dims PRIVATE quiver_index quiver_bench_data)
