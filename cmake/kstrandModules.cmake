# The library's modules. Each folder of src/ is an OBJECT library that sees
# the public headers, its own headers and those of the modules it DEPENDS on,
# nothing else: an include of a module it does not name (one above it) fails
# to compile. libkstrand.a is the union of their objects.
#
# A module's headers are reached as "<module>/<file>.h" through a directory of
# its own in the build tree that holds one link, <module> -> src/<module>; a
# dependency puts that directory on the include path, so src/ itself never is.
#
#   kstrand_module(<name> DEPENDS <modules>... LIBS <third-party targets>... SOURCES <files>...)
#
# src/base (the annotated mutex, header-only) is below every module and
# reachable from all of them.
set(KSTRAND_MODULES "")
function(kstrand_module_include_root name out)
  set(root ${PROJECT_BINARY_DIR}/module-include/${name})
  file(MAKE_DIRECTORY ${root})
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${name} ${root}/${name} SYMBOLIC)
  set(${out} ${root} PARENT_SCOPE)
endfunction()
kstrand_module_include_root(base base_root)
add_library(kstrand_base INTERFACE)
target_include_directories(kstrand_base INTERFACE ${base_root})

function(kstrand_module name)
  cmake_parse_arguments(M "" "" "DEPENDS;LIBS;SOURCES" ${ARGN})
  kstrand_module_include_root(${name} root)
  add_library(kstrand_${name} OBJECT ${M_SOURCES})
  target_include_directories(kstrand_${name} PUBLIC ${root} ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(kstrand_${name} PUBLIC kstrand_base)
  # Every module below it that it reaches, directly or through another.
  set(reach ${M_DEPENDS})
  foreach(dep IN LISTS M_DEPENDS)
    target_link_libraries(kstrand_${name} PUBLIC kstrand_${dep})
    get_target_property(below kstrand_${dep} KSTRAND_DEPENDS)
    if(below)
      list(APPEND reach ${below})
    endif()
  endforeach()
  list(REMOVE_DUPLICATES reach)
  set_target_properties(kstrand_${name} PROPERTIES KSTRAND_DEPENDS "${reach}")
  target_link_libraries(kstrand_${name} PRIVATE ${M_LIBS})
  target_compile_features(kstrand_${name} PUBLIC cxx_std_20)
  target_compile_options(kstrand_${name} PRIVATE ${KSTRAND_WARNINGS})
  set_target_properties(kstrand_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  set(KSTRAND_MODULES ${KSTRAND_MODULES} ${name} PARENT_SCOPE)
endfunction()
