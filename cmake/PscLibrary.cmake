# One place that gives every target the same language level and warnings.
#
#   psc_library(NAME domain SRCS a.cc b.cc DEPS psc::proto absl::status)
#     -> target psc_domain, alias psc::domain; public headers in include/.
#   psc_executable(NAME pscd SRCS main.cc DEPS psc::server)
#   psc_test(NAME domain_test SRCS month_test.cc DEPS psc::domain [LABELS e2e])
#     -> GoogleTest binary, every TEST registered with CTest.

include(GoogleTest)

set(PSC_WARNINGS -Wall -Wextra -Werror -Wno-missing-field-initializers)

function(psc_apply_flags target)
  target_compile_options(${target} PRIVATE ${PSC_WARNINGS})
  target_compile_features(${target} PUBLIC cxx_std_20)
endfunction()

function(psc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(psc_${ARG_NAME} STATIC ${ARG_SRCS})
  add_library(psc::${ARG_NAME} ALIAS psc_${ARG_NAME})
  target_include_directories(psc_${ARG_NAME}
    PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(psc_${ARG_NAME} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  psc_apply_flags(psc_${ARG_NAME})
endfunction()

function(psc_executable)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  psc_apply_flags(${ARG_NAME})
endfunction()

# Tests find the build tree's programs and the source tree through
# psc::testing::BinPath / SourcePath (recorded at build time; the
# environment variables PSC_BIN_DIR and PSC_SOURCE_DIR override them).
function(psc_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  psc_apply_flags(${ARG_NAME})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  gtest_discover_tests(${ARG_NAME}
    DISCOVERY_TIMEOUT 60
    NO_PRETTY_VALUES TRUE
    PROPERTIES
      TIMEOUT ${ARG_TIMEOUT}
      LABELS "${ARG_LABELS}")
endfunction()
