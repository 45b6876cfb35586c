# Warning set for all flow targets; FLOW_WERROR (on in CI) makes them errors.
function(flow_set_warnings target)
  target_compile_options(${target} INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                                             -Wnon-virtual-dtor -Wold-style-cast)
  # A unity build (CMAKE_UNITY_BUILD=ON, as scripts/test.sh builds) compiles several .cpp
  # files as one. GCC then takes every .cpp but the first for a header and warns when a type
  # of its anonymous namespace is used inside a type with linkage (a test fixture under
  # TEST_F, a member of a class defined in that .cpp): right in a header, not in a .cpp.
  if(CMAKE_UNITY_BUILD AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} INTERFACE -Wno-subobject-linkage)
  endif()
  if(FLOW_WERROR)
    target_compile_options(${target} INTERFACE -Werror)
  endif()
endfunction()
