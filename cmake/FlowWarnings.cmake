# Warning set for all flow targets; FLOW_WERROR (on in CI) makes them errors.
function(flow_set_warnings target)
  target_compile_options(${target} INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                                             -Wnon-virtual-dtor -Wold-style-cast)
  if(FLOW_WERROR)
    target_compile_options(${target} INTERFACE -Werror)
  endif()
endfunction()
