# The ONNX checker (tests/onnx/onnx_checker.hpp) for the tests of the ONNX export: Debian's
# libonnx-dev (ONNX 1.12, with protobuf 3.21 from libprotobuf-dev), a test-only dependency: only
# the test executables that call it link it, never the library. Without it the library
# xdense_onnx_checker is still built, onnx_checker_available() is false and those checks skip.
find_package(Protobuf QUIET)
if(Protobuf_FOUND)
  find_package(ONNX CONFIG QUIET)
endif()
add_library(xdense_onnx_checker STATIC ${CMAKE_CURRENT_LIST_DIR}/onnx_checker.cpp)
target_compile_options(xdense_onnx_checker PRIVATE -Wall -Wextra)
if(TARGET onnx AND TARGET protobuf::libprotobuf)
  message(STATUS "xdense tests: ONNX ${ONNX_VERSION} checker found (libonnx-dev): exported models are checked")
  target_link_libraries(xdense_onnx_checker PRIVATE onnx)
  target_compile_definitions(xdense_onnx_checker PRIVATE XDENSE_HAVE_ONNX_CHECKER)
else()
  message(STATUS "xdense tests: ONNX checker not found (libonnx-dev): its checks skip")
endif()

# Every test of tests/onnx/ may check what it exports (tests/CMakeLists.txt's test_sources).
foreach(source ${test_sources})
  if(source MATCHES "/onnx/[^/]*_test\\.cpp$")
    get_filename_component(test ${source} NAME_WE)
    if(TARGET ${test})
      target_link_libraries(${test} PRIVATE xdense_onnx_checker)
    endif()
  endif()
endforeach()

# The golden files of onnx_writer_test (written by tests/fixtures/onnx/make_golden_models.py).
if(TARGET onnx_writer_test)
  target_compile_definitions(onnx_writer_test PRIVATE XDENSE_ONNX_FIXTURES="${PROJECT_SOURCE_DIR}/tests/fixtures/onnx")
endif()
