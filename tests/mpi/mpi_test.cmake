# mpirun tests: how ctest starts a program on several MPI processes. Included once, by the top-level
# CMakeLists.txt (a later include() does nothing), so the function and variables below serve every
# folder's tests.
#
#   xdense_add_mpi_test(NAME <test> RANKS <n> COMMAND <program> [<arg>...]
#                       [MPIEXEC_ARGS <mpirun option>...] [TIMEOUT <seconds, default 60>]
#                       [ENVIRONMENT <VAR=value>...] [LABELS <label>...])
#
# adds the test `mpiexec -n <n> <flags> <MPIEXEC_ARGS> <program> <args>` (COMMAND may use generator
# expressions: $<TARGET_FILE:xdense_cli>), label "mpi". The program passes when mpiexec exits with 0:
# with Open MPI, when every process exits with 0 (a process that exits non-zero ends the job). Without
# MPI (not found, XDENSE_WITH_MPI=OFF, no mpiexec) it adds nothing: callers need no if().
# Examples:
#   xdense_add_mpi_test(NAME cli_train_2_ranks RANKS 2 COMMAND $<TARGET_FILE:xdense_cli> train ...)
#   xdense_add_mpi_test(NAME x_tcp RANKS 2 COMMAND $<TARGET_FILE:x> MPIEXEC_ARGS --mca btl tcp,self)
#
# For a test program or ctest script that starts mpiexec itself (a gtest that runs the tool under
# mpirun and reads its files):
#   XDENSE_MPI_TESTS            ON when MPI tests can run (else the variables below are empty)
#   XDENSE_MPIEXEC_PREFIX       list: mpiexec and its flags up to the process count, which follows:
#                               ${XDENSE_MPIEXEC_PREFIX} 2 <program> <args>
#   XDENSE_MPIEXEC_PREFIX_STRING  the same as one shell-style string ("/usr/bin/mpiexec --oversubscribe ... -n")
#   XDENSE_MPI_TEST_ENVIRONMENT list of VAR=value mpiexec needs (set_tests_properties(... ENVIRONMENT ...))
#
# Open MPI flags and environment, for ctest on any machine (CI runs as root in a 2-core container):
#   --oversubscribe     more processes than cores (3 ranks on 2 cores)
#   --bind-to none      no pinning: concurrent ctest jobs and other processes share the cores
#   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1   mpirun refuses root otherwise
#   OMPI_MCA_btl_vader_single_copy_mechanism=none   shared memory without cross-memory attach
#       (process_vm_readv): a container without ptrace rights otherwise prints "Read -1, expected
#       ..., errno = 1" per message (open-mpi/ompi#4948). Copies through the shared buffers instead;
#       the tests' messages are small.
# Extra flags for every mpirun test: -DXDENSE_MPIEXEC_EXTRA_FLAGS="--mca;btl_tcp_if_include;lo".

include_guard(GLOBAL)
set(XDENSE_MPI_TESTS OFF)
set(XDENSE_MPIEXEC_PREFIX "")
set(XDENSE_MPIEXEC_PREFIX_STRING "")
set(XDENSE_MPI_TEST_ENVIRONMENT "")
set(XDENSE_MPIEXEC_EXTRA_FLAGS "" CACHE STRING "Extra mpiexec flags for the mpirun tests (a ;-list)")

if(NOT XDENSE_HAVE_MPI)
  message(STATUS "xdense: mpirun tests not added (xdense built without MPI)")
elseif(NOT MPIEXEC_EXECUTABLE)
  message(STATUS "xdense: mpirun tests not added (no mpiexec found: install openmpi-bin)")
else()
  set(XDENSE_MPI_TESTS ON)
  execute_process(COMMAND ${MPIEXEC_EXECUTABLE} --version OUTPUT_VARIABLE _xdense_mpiexec_version
                  ERROR_VARIABLE _xdense_mpiexec_version TIMEOUT 30)
  set(_xdense_mpiexec_flags "")
  if(_xdense_mpiexec_version MATCHES "Open MPI|OpenRTE")
    set(XDENSE_MPIEXEC_IS_OPENMPI ON)
    list(APPEND _xdense_mpiexec_flags --oversubscribe --bind-to none)
    list(APPEND XDENSE_MPI_TEST_ENVIRONMENT OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
         OMPI_MCA_btl_vader_single_copy_mechanism=none)
  else()
    set(XDENSE_MPIEXEC_IS_OPENMPI OFF)
  endif()
  if(XDENSE_SANITIZE)
    # Open MPI keeps allocations of its initialisation until exit: LeakSanitizer reports them.
    # tests/mpi/lsan.supp names only MPI's libraries, never xdense's frames; it needs whole stacks
    # (Open MPI's libraries have no frame pointers: the fast unwinder stops in them) and plugins
    # that stay loaded after MPI_Finalize (else their frames are "<unknown module>").
    list(APPEND XDENSE_MPI_TEST_ENVIRONMENT
         "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_LIST_DIR}/lsan.supp:print_suppressions=0:fast_unwind_on_malloc=0"
         OMPI_MCA_mca_base_component_disable_dlclose=1)
  endif()
  set(XDENSE_MPIEXEC_PREFIX ${MPIEXEC_EXECUTABLE} ${_xdense_mpiexec_flags} ${XDENSE_MPIEXEC_EXTRA_FLAGS}
      ${MPIEXEC_PREFLAGS} ${MPIEXEC_NUMPROC_FLAG})
  list(JOIN XDENSE_MPIEXEC_PREFIX " " XDENSE_MPIEXEC_PREFIX_STRING)
  message(STATUS "xdense: mpirun tests: ${XDENSE_MPIEXEC_PREFIX_STRING} <n> ...")
endif()

function(xdense_add_mpi_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME;RANKS;TIMEOUT" "COMMAND;MPIEXEC_ARGS;ENVIRONMENT;LABELS")
  if(NOT arg_NAME OR NOT arg_RANKS OR NOT arg_COMMAND)
    message(FATAL_ERROR "xdense_add_mpi_test: expected NAME <test> RANKS <n> COMMAND <program> [args...]")
  endif()
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "xdense_add_mpi_test(${arg_NAME}): unknown arguments ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_RANKS MATCHES "^[1-9][0-9]*$")
    message(FATAL_ERROR "xdense_add_mpi_test(${arg_NAME}): RANKS must be a positive integer, received ${arg_RANKS}")
  endif()
  if(NOT XDENSE_MPI_TESTS)
    return()
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 60)
  endif()
  list(POP_FRONT arg_COMMAND program)
  add_test(NAME ${arg_NAME}
           COMMAND ${XDENSE_MPIEXEC_PREFIX} ${arg_RANKS} ${arg_MPIEXEC_ARGS} ${program} ${MPIEXEC_POSTFLAGS} ${arg_COMMAND})
  # PROCESSORS: `ctest -j2` counts an n-rank test as n jobs (capped at -j), so it does not start more
  # processes than cores on top of it.
  set(environment ${XDENSE_MPI_TEST_ENVIRONMENT} ${arg_ENVIRONMENT})
  set(labels mpi ${arg_LABELS})
  set_tests_properties(${arg_NAME} PROPERTIES
    TIMEOUT ${arg_TIMEOUT}
    PROCESSORS ${arg_RANKS}
    LABELS "${labels}"
    ENVIRONMENT "${environment}")
endfunction()
