# ctest driver: install the built xdense into a fresh prefix, then configure,
# build and run the consumer project against that prefix only.
# Inputs: -DBUILD_DIR= (xdense build tree) -DCONSUMER_DIR= (this folder) -DWORK_DIR= (scratch)
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(run_step name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${name} failed (${result}):\n${out}\n${err}")
  endif()
  message(STATUS "${name}: ok")
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

run_step("install" ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix")
if(NOT EXISTS "${WORK_DIR}/prefix/lib/cmake/xdense/xdenseConfig.cmake"
   AND NOT EXISTS "${WORK_DIR}/prefix/lib/x86_64-linux-gnu/cmake/xdense/xdenseConfig.cmake")
  message(FATAL_ERROR "install did not produce xdenseConfig.cmake")
endif()
run_step("configure consumer" ${CMAKE_COMMAND} -S "${CONSUMER_DIR}" -B "${WORK_DIR}/build"
         -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release)
run_step("build consumer" ${CMAKE_COMMAND} --build "${WORK_DIR}/build")
run_step("run consumer" "${WORK_DIR}/build/consumer")
message(STATUS "${last_output}")
