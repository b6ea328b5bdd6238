# deb-prebuild.cmake - run by CPack on its staging tree before the .deb is
# built (CPACK_PRE_BUILD_SCRIPTS): compresses the man pages with gzip -9n,
# as Debian policy asks (no timestamp, so the package is reproducible).
file(GLOB_RECURSE _pages "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*/share/man/man1/*.1")
foreach(_page ${_pages})
  execute_process(COMMAND gzip -9nf "${_page}" RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "gzip ${_page} failed")
  endif()
endforeach()
